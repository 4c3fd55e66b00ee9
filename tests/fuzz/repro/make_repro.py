# SPDX-License-Identifier: Apache-2.0
"""Writes the onnx_import_fuzz reproducers in this directory: tiny ONNX models (72 to 370 bytes)
whose compiled activations for batch 2 would take 8.6 GB (Conv, pads 16384 on a 2x2 input), 25.6 GB
(Relu on a 40000x40000 input) and 62 GB (64-channel Conv, pads 4000). The importer now refuses any
tensor over 2^28 elements per sample, naming it, and test_onnx_import checks that each of these is
refused so. Protobuf is encoded by hand (no onnx package needed). Run from this directory:
python3 make_repro.py"""
import struct


def vi(n):
    out=b''
    while True:
        b=n&0x7f; n>>=7
        if n: out+=bytes([b|0x80])
        else: return out+bytes([b])
def f(num, payload):  # length-delimited
    if isinstance(payload,str): payload=payload.encode()
    return vi(num<<3|2)+vi(len(payload))+payload
def fv(num, v): return vi(num<<3|0)+vi(v)
def dim(d): return f(1, fv(1,d) if isinstance(d,int) else f(2,d))
def valinfo(name, dims):
    shape=b''.join(dim(d) for d in dims) if dims is not None else None
    tt=fv(1,1)+(f(2,shape) if shape is not None else b'')
    return f(1,name)+f(2,f(1,tt))
def relu(path, dims, op='Relu'):
    node=f(1,'x')+f(2,'y')+f(4,op)
    g=f(1,node)+f(2,'g')+f(11,valinfo('x',dims))+f(12,valinfo('y',None))
    m=fv(1,8)+f(8,f(1,'')+fv(2,13))+f(7,g)
    open(path,'wb').write(m)
def attr_ints(name, vals):
    return f(1,name)+b''.join(fv(8,v) for v in vals)+fv(20,7)
def conv(path, dims, pads, wdims=(1,1,1,1)):
    n=1
    for d in wdims: n*=d
    W=b''.join(fv(1,d) for d in wdims)+fv(2,1)+f(8,'W')+f(9,struct.pack('<%df'%n,*([0.5]*n)))
    node=f(1,'x')+f(1,'W')+f(2,'y')+f(4,'Conv')+f(5,attr_ints('pads',pads))
    g=f(1,node)+f(2,'g')+f(5,W)+f(11,valinfo('x',dims))+f(12,valinfo('y',None))
    m=fv(1,8)+f(8,f(1,'')+fv(2,13))+f(7,g)
    open(path,'wb').write(m)

relu('oom_relu_input_40000x40000.onnx', ['N', 1, 40000, 40000])
conv('oom_conv_pads_16384.onnx', ['N', 1, 2, 2], [16384] * 4)
conv('oom_conv_64ch_pads_4000.onnx', ['N', 1, 2, 2], [4000] * 4, wdims=(64, 1, 1, 1))
