// SPDX-License-Identifier: Apache-2.0
/* aicon: a data-parallel deep-learning training runtime. One header for the whole public API. */
#ifndef AICON_AICON_H
#define AICON_AICON_H

#include "aicon/status.h"
#include "aicon/tensor.h"
#include "aicon/model.h"
#include "aicon/optim.h"
#include "aicon/comm.h"
#include "aicon/data.h"
#include "aicon/checkpoint.h"
#include "aicon/train.h"
#include "aicon/trainer.h"
#include "aicon/onnx.h"
#include "aicon/device.h"
#include "aicon/placement.h"

#endif
