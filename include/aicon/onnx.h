// SPDX-License-Identifier: Apache-2.0
/* ONNX models: reading and validating a .onnx file, and importing its graph as an aicon model.
 *
 * A model is loaded whole and checked before it is handed back: the protobuf parses, there is a
 * graph, every initializer and every tensor-valued node attribute (Constant's `value`) has
 * non-negative dims, at most 2^31 elements and exactly as much data as its dims say, no tensor keeps
 * its data in an external file, every node input is a graph input, an initializer or the output of
 * some node, no name is produced twice, and the nodes (in any order) form no cycle. A failure names
 * the file and the node or tensor at fault. Subgraphs (the bodies of If, Loop and Scan) are not yet
 * checked. */
#ifndef AICON_ONNX_H
#define AICON_ONNX_H

#include <stddef.h>
#include <stdint.h>

#include "aicon/data.h"
#include "aicon/model.h"
#include "aicon/export.h"
#include "aicon/status.h"
#include "aicon/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest .onnx file aicon reads: protobuf's own limit for one message. */
#define AIC_ONNX_MAX_FILE_BYTES ((int64_t)2 << 30)
/* Largest element count of one tensor. */
#define AIC_ONNX_MAX_TENSOR_ELEMENTS ((int64_t)1 << 31)

/* A parsed and validated ONNX model (it owns the unpacked ModelProto). */
typedef struct aic_onnx_model aic_onnx_model_t;

/* Reads and validates the ONNX file at path; on success *out owns the model (free it with
 * aic_onnx_free). Errors: AIC_ERR_IO (cannot open or read), AIC_ERR_FORMAT (not an ONNX model, or
 * one that breaks the rules above, or a file over AIC_ONNX_MAX_FILE_BYTES), AIC_ERR_UNSUPPORTED
 * (external tensor data), AIC_ERR_NOMEM. *out is NULL after a failure. */
AIC_API aic_status aic_onnx_load(const char *path, aic_onnx_model_t **out);

/* As aic_onnx_load, from size bytes in memory (not kept: the model copies what it needs). name
 * stands for the file in error messages; NULL means "<buffer>". */
AIC_API aic_status aic_onnx_load_buffer(const uint8_t *data, size_t size, const char *name, aic_onnx_model_t **out);

/* Frees a model; NULL is a no-op. */
AIC_API void aic_onnx_free(aic_onnx_model_t *m);

/* Opset version the model imports for the default domain ("" or "ai.onnx"); -1 when it imports none. */
AIC_API int64_t aic_onnx_opset_version(const aic_onnx_model_t *m);
/* IR version the file declares (0 when absent). */
AIC_API int64_t aic_onnx_ir_version(const aic_onnx_model_t *m);
/* Number of nodes, initializers, graph inputs and graph outputs of the main graph. */
AIC_API size_t aic_onnx_num_nodes(const aic_onnx_model_t *m);
AIC_API size_t aic_onnx_num_initializers(const aic_onnx_model_t *m);
AIC_API size_t aic_onnx_num_inputs(const aic_onnx_model_t *m);
AIC_API size_t aic_onnx_num_outputs(const aic_onnx_model_t *m);
/* The main graph's name ("" when it has none); owned by the model. */
AIC_API const char *aic_onnx_graph_name(const aic_onnx_model_t *m);
/* Name of the i-th graph input that no initializer gives a value (the i-th input a caller feeds,
 * input_i.pb in a backend test case); NULL when there are not that many. Owned by the model. */
AIC_API const char *aic_onnx_fed_input_name(const aic_onnx_model_t *m, size_t i);

/* ---- import ----------------------------------------------------------------------------------
 * Graph inputs that are not initializers become model inputs whose dimension 0 is the batch (the
 * rest is the per-sample shape): float ones aic_input, int32 and int64 ones aic_int_input (aicon holds
 * int32: ids and labels must fit); float initializers read by Gemm, Conv and BatchNormalization become
 * that op's parameters and buffers, holding the initializer's values. Initializers and Constant
 * values of float16, bfloat16 and double are read as float32. */

#define AIC_ONNX_MAX_IO 16

/* Which model value each ONNX graph input and output became, in graph order. */
typedef struct {
    int n_inputs;
    char input_names[AIC_ONNX_MAX_IO][AIC_MAX_NAME];
    aic_value inputs[AIC_ONNX_MAX_IO];
    int n_outputs;
    char output_names[AIC_ONNX_MAX_IO][AIC_MAX_NAME];
    aic_value outputs[AIC_ONNX_MAX_IO];
    /* The file was exported for training (a BatchNormalization with training_mode=1, or before opset
     * 14 with its running statistics as outputs): as onnxruntime does, its forward pass uses batch
     * statistics (aic_batch_info.training), which aicon onnx-test follows. */
    bool training_mode;
} aic_onnx_binding;

/* Append the ONNX graph's forward pass to m, which must not be compiled yet (it may already hold
 * other ops, whose names must not clash with the graph's inputs and nodes). bind (may be NULL)
 * receives the model values of the graph's inputs and outputs. Nothing is compiled and no weight is
 * copied: the caller may add more ops (labels, a loss), then aic_model_compile and
 * aic_onnx_load_weights. The model output is not set (aic_model_set_output). Fails with
 * AIC_ERR_UNSUPPORTED and one message listing every node aicon cannot run (name, op type, opset, and
 * why); after any failure m holds part of the graph and should be destroyed, and *bind is zeroed. */
AIC_API aic_status aic_onnx_build(const aic_onnx_model_t *om, aic_model_t *m, aic_onnx_binding *bind);

/* Copy the graph's initializers into the parameters and buffers of m: a model that aic_onnx_build
 * built from the same om and that has since been compiled (its own initialization is overwritten;
 * parameters of ops added outside the graph are left as they are). AIC_ERR_STATE when m is not
 * compiled; an error naming the parameter when m does not hold what the graph builds. */
AIC_API aic_status aic_onnx_load_weights(const aic_onnx_model_t *om, aic_model_t *m);

/* aic_model_create + aic_onnx_build + aic_model_set_output(the first graph output) +
 * aic_model_compile (for batches up to max_batch, seed 0) + aic_onnx_load_weights: an aicon model
 * computing the ONNX graph's forward pass, with the file's weights. Errors as aic_onnx_build's;
 * *out is NULL (and *bind zeroed) after any failure. */
AIC_API aic_status aic_onnx_import(const aic_onnx_model_t *om, int max_batch, aic_model_t **out,
                                   aic_onnx_binding *bind);

/* Op type of the node that makes graph output i (owned by the model); NULL when i is out of range
 * or the output is a graph input or an initializer. */
AIC_API const char *aic_onnx_output_op(const aic_onnx_model_t *om, size_t i);

/* ---- export ----------------------------------------------------------------------------------
 * Write the forward pass of a compiled model m (its inputs to its output, aic_model_set_output or
 * the logits its loss reads; the loss and labels are left out unless the output is the loss: then
 * SoftmaxCrossEntropyLoss or NegativeLogLikelihoodLoss, with the labels an int32 graph input;
 * embedding and gather -> Gather) to path as an ONNX model: IR version
 * 8, default-domain opset 17, producer "aicon". Graph inputs are the model's inputs with a symbolic
 * batch dimension "N"; every tensor is named after the op that makes it; initializers carry the
 * model's own parameter and buffer values, under the ONNX initializer names they were imported from
 * (copied unchanged: not transposed or scaled; and while no other exported name clashes), else under
 * the model's own names. dense -> Gemm (transB 1), conv2d -> Conv,
 * max/avg pool -> MaxPool/AveragePool, global_avgpool -> GlobalAveragePool (+ Reshape to N x C),
 * batchnorm -> BatchNormalization (inference: the running statistics), dropout -> Identity,
 * reshape -> Reshape [0, per-sample dims], add, concat, relu, sigmoid, tanh, softmax, log_softmax,
 * leaky_relu, clip (bounds as inputs), transpose -> Transpose (perm with the batch axis 0). The file is
 * written under a temporary name, flushed and renamed: a crash leaves the old file or the whole new one.
 * Errors: AIC_ERR_STATE (not compiled), AIC_ERR_UNSUPPORTED naming an op with no ONNX form,
 * AIC_ERR_IO, AIC_ERR_NOMEM. */
AIC_API aic_status aic_onnx_export(aic_model_t *m, const char *path);

/* What an export adds to the graph of aic_onnx_export. */
typedef struct {
    aic_value input;           /* the model's data input, which input_name and preprocess are about */
    const char *input_name;    /* its graph input's name; NULL: the input op's name */
    const char *output_name;   /* the graph output's name; NULL: the name of the op that makes it */
    aic_preprocess preprocess; /* standardize: the graph takes the values the data file holds and
                                * first computes (x - mean) / std (Sub, Div by scalar initializers
                                * aicon.preprocess.mean and .std); none or unknown: nothing added */
} aic_onnx_export_options;

/* aic_onnx_export with names and preprocessing as o says (NULL: as aic_onnx_export). Either way the
 * ModelProto's metadata_props say aicon.version and aicon.preprocess ("standardize", "none" or
 * "unknown"), and for standardize aicon.mean and aicon.std (printed with 17 digits: the doubles the
 * float initializers were rounded from). AIC_ERR_INVALID_ARG when a name is another tensor's, or when
 * o->input is not one of the model's inputs. */
AIC_API aic_status aic_onnx_export_with(aic_model_t *m, const char *path, const aic_onnx_export_options *o);

/* ---- tensor files (the backend test data: test_data_set_N/input_K.pb) ------------------------- */

typedef struct {
    char name[AIC_MAX_NAME];
    int ndim;
    int64_t dims[AIC_MAX_DIMS];
    int64_t numel;
    float *data; /* owned; numel floats, or numel int32 values where dtype is AIC_I32 */
    aic_dtype dtype;
} aic_onnx_tensor;

/* Read one serialized TensorProto of floating elements as float (float16, bfloat16 and double
 * converted), or of int32 or int64 ones as int32 (dtype
 * AIC_I32: what aic_model_set_input takes for an int input; ids and labels must fit).
 * AIC_ERR_UNSUPPORTED for other element types and for an int64 outside int32's range (the message
 * names the type: "holds int64 elements"), AIC_ERR_FORMAT for a malformed file. */
AIC_API aic_status aic_onnx_read_tensor(const char *path, aic_onnx_tensor *out);
AIC_API void aic_onnx_tensor_free(aic_onnx_tensor *t);

/* Turn graph input `name` into a constant: it leaves the graph's inputs and becomes an initializer
 * holding t's dims and values (copied; an AIC_I32 tensor's as int64, ONNX's type for indices and
 * shapes). The ONNX backend test cases pass weights (Gemm's B, Conv's W, BatchNormalization's
 * statistics, Clip's bounds) as graph inputs; bound this way they import as the initializers an
 * exported model would carry. AIC_ERR_INVALID_ARG when the graph has no such
 * input, AIC_ERR_NOMEM; om is unchanged after a failure. */
AIC_API aic_status aic_onnx_bind_constant(aic_onnx_model_t *om, const char *name, const aic_onnx_tensor *t);
/* aic_onnx_bind_constant with the serialized TensorProto in file `path`, of any element type, as it
 * is (the backend cases' int64 starts, pads and axes); AIC_ERR_FORMAT for a malformed file. */
AIC_API aic_status aic_onnx_bind_constant_file(aic_onnx_model_t *om, const char *name, const char *path);

#ifdef __cplusplus
}
#endif
#endif
