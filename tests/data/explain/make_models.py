#!/usr/bin/python3
"""Write the small ONNX models the explanation tests run, next to this script.

  linear.onnx      Gemm 5 -> 1, known weights (the closed form of linear SHAP)
  logistic.onnx    Gemm 5 -> 1 + Sigmoid
  softmax.onnx     Gemm 4 -> 3 + Softmax (a multinomial logistic model)
  mlp_tanh.onnx    6 -> 16 tanh -> 8 sigmoid -> 3 softmax
  mlp_relu.onnx    6 -> 32 relu -> 16 relu -> 1
  mlp_relu_tanh.onnx 6 -> 24 relu -> 12 tanh -> 2 (kinks and a smooth op on one path)
  op_<name>.onnx   4 inputs scaled per column, one op under test, then a Gemm to 3
                   outputs: every op a session runs that has a derivative
  rowwise.onnx     MatMul and Gemm of a row with itself (both inputs variable; one row)
  quantized.onnx   QuantizeLinear + DequantizeLinear before a Gemm (no derivative)
  refused_*.onnx   models an explainer refuses: a fixed batch, an int64 output, a Cast to int64 on the
                   path, a batched MatMul of variables, a LayerNorm scale computed from the input

Run with Debian's interpreter: /usr/bin/python3 tests/data/explain/make_models.py (python3-onnx, python3-numpy).
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
RNG = np.random.default_rng(7)


def tensor(name, values):
    return numpy_helper.from_array(np.asarray(values, dtype=np.float32), name)


def ints(name, values):
    return numpy_helper.from_array(np.asarray(values, dtype=np.int64), name)


def save(name, nodes, inits, width, outputs, opset=13):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", outputs])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, name + ".onnx"))


def dense(name, k, n, scale=0.7):
    return [tensor(name + "_w", RNG.normal(0, scale, (k, n))), tensor(name + "_b", RNG.normal(0, 0.3, n))]


def linear_models():
    w = [[0.5], [-1.25], [2.0], [0.0], [0.75]]
    b = [0.25]
    save("linear", [helper.make_node("Gemm", ["x", "w", "b"], ["y"])], [tensor("w", w), tensor("b", b)], 5, 1)
    save("logistic", [helper.make_node("Gemm", ["x", "w", "b"], ["z"]), helper.make_node("Sigmoid", ["z"], ["y"])],
         [tensor("w", w), tensor("b", b)], 5, 1)
    save("softmax", [helper.make_node("Gemm", ["x", "w", "b"], ["z"]),
                     helper.make_node("Softmax", ["z"], ["y"], axis=1)],
         [tensor("w", RNG.normal(0, 1, (4, 3))), tensor("b", [0.1, -0.2, 0.3])], 4, 3)


def mlps():
    save("mlp_tanh", [
        helper.make_node("Gemm", ["x", "l1_w", "l1_b"], ["h1"]), helper.make_node("Tanh", ["h1"], ["a1"]),
        helper.make_node("Gemm", ["a1", "l2_w", "l2_b"], ["h2"]), helper.make_node("Sigmoid", ["h2"], ["a2"]),
        helper.make_node("Gemm", ["a2", "l3_w", "l3_b"], ["z"]), helper.make_node("Softmax", ["z"], ["y"], axis=1),
    ], dense("l1", 6, 16) + dense("l2", 16, 8) + dense("l3", 8, 3, 1.5), 6, 3)
    save("mlp_relu", [
        helper.make_node("Gemm", ["x", "l1_w", "l1_b"], ["h1"]), helper.make_node("Relu", ["h1"], ["a1"]),
        helper.make_node("Gemm", ["a1", "l2_w", "l2_b"], ["h2"]), helper.make_node("Relu", ["h2"], ["a2"]),
        helper.make_node("Gemm", ["a2", "l3_w", "l3_b"], ["y"]),
    ], dense("l1", 6, 32) + dense("l2", 32, 16, 0.4) + dense("l3", 16, 1, 0.5), 6, 1)


def op_models():
    """x * s (per column, so the op's input is not the graph input), the op, then Gemm to 3 outputs."""
    head = [helper.make_node("Mul", ["x", "s"], ["p"]), helper.make_node("Mul", ["x", "s2"], ["q"])]
    common = [tensor("s", [1.5, -0.8, 0.6, 1.1]), tensor("s2", [0.4, 0.9, -1.2, 0.7])]
    tail_w = dense("out", 4, 3)

    def one(name, nodes, inits=(), opset=13):
        tail = [helper.make_node("Gemm", ["r", "out_w", "out_b"], ["y"])]
        save("op_" + name, head + nodes + tail, common + list(inits) + tail_w, 4, 3, opset)

    one("add", [helper.make_node("Add", ["p", "q"], ["t"]), helper.make_node("Add", ["t", "c"], ["r"])],
        [tensor("c", [0.5, -0.5, 1.0, 0.0])])
    one("sub", [helper.make_node("Sub", ["c", "p"], ["t"]), helper.make_node("Sub", ["t", "q"], ["r"])],
        [tensor("c", [[0.25]])])
    one("mul", [helper.make_node("Mul", ["p", "q"], ["r"])])
    one("div", [helper.make_node("Sigmoid", ["q"], ["g"]), helper.make_node("Add", ["g", "one"], ["d"]),
                helper.make_node("Div", ["p", "d"], ["r"])], [tensor("one", 1.0)])
    for op, attrs in (("Relu", {}), ("LeakyRelu", {"alpha": 0.1}), ("Sigmoid", {}), ("Tanh", {}), ("Erf", {}),
                      ("Identity", {})):
        one(op.lower(), [helper.make_node(op, ["p"], ["r"], **attrs)])
    one("clip", [helper.make_node("Clip", ["p", "lo", "hi"], ["r"])], [tensor("lo", -0.5), tensor("hi", 0.5)])
    one("softmax", [helper.make_node("Softmax", ["p"], ["r"], axis=-1)])
    one("softmax_opset11", [helper.make_node("Softmax", ["p"], ["r"], axis=1)], opset=11)
    one("log_softmax", [helper.make_node("LogSoftmax", ["p"], ["r"], axis=1)])
    one("reshape_flatten", [helper.make_node("Reshape", ["p", "shape"], ["t"]),
                            helper.make_node("Flatten", ["t"], ["r"], axis=1)], [ints("shape", [-1, 2, 2])])
    one("unsqueeze_squeeze", [helper.make_node("Unsqueeze", ["p", "axes"], ["t"]),
                              helper.make_node("Squeeze", ["t", "axes"], ["r"])], [ints("axes", [1])])
    one("dropout", [helper.make_node("Dropout", ["p"], ["r"])])
    one("cast", [helper.make_node("Cast", ["p"], ["r"], to=TensorProto.FLOAT)])
    one("batch_norm", [helper.make_node("BatchNormalization", ["p", "bn_s", "bn_b", "bn_m", "bn_v"], ["r"])],
        [tensor("bn_s", [1.2, 0.8, -0.5, 2.0]), tensor("bn_b", [0.1, 0.2, 0.3, 0.4]),
         tensor("bn_m", [0.3, -0.1, 0.2, 0.0]), tensor("bn_v", [0.5, 2.0, 1.0, 0.25])])
    one("layer_norm", [helper.make_node("LayerNormalization", ["p", "ln_s", "ln_b"], ["r"], axis=-1)],
        [tensor("ln_s", [1.2, 0.8, -0.5, 2.0]), tensor("ln_b", [0.1, 0.2, 0.3, 0.4])], opset=17)
    one("gemm_variable_c", [helper.make_node("Gemm", ["p", "gw", "q"], ["r"], transB=1, alpha=0.5, beta=2.0)],
        [tensor("gw", RNG.normal(0, 0.7, (4, 4)))])
    # fused linear layers, one per epilogue: Gemm + activation, then the output Gemm
    for act, attrs in (("Relu", {}), ("LeakyRelu", {"alpha": 0.2}), ("Sigmoid", {}), ("Tanh", {})):
        one("linear_" + act.lower(), [helper.make_node("Gemm", ["p", "lw", "lb"], ["h"]),
                                      helper.make_node(act, ["h"], ["r"], **attrs)],
            [tensor("lw", RNG.normal(0, 0.7, (4, 4))), tensor("lb", RNG.normal(0, 0.3, 4))])
    one("linear_clip", [helper.make_node("Gemm", ["p", "lw", "lb"], ["h"]),
                        helper.make_node("Clip", ["h", "lo", "hi"], ["r"])],
        [tensor("lw", RNG.normal(0, 0.7, (4, 4))), tensor("lb", RNG.normal(0, 0.3, 4)), tensor("lo", -0.4),
         tensor("hi", 0.6)])
    # exact GELU in the erf form the exporters write: 0.5 h (1 + erf(h / sqrt 2))
    one("linear_gelu", [helper.make_node("Gemm", ["p", "lw", "lb"], ["h"]),
                        helper.make_node("Div", ["h", "sqrt2"], ["h1"]), helper.make_node("Erf", ["h1"], ["h2"]),
                        helper.make_node("Add", ["h2", "one"], ["h3"]), helper.make_node("Mul", ["h", "h3"], ["h4"]),
                        helper.make_node("Mul", ["h4", "half"], ["r"])],
        [tensor("lw", RNG.normal(0, 0.7, (4, 4))), tensor("lb", RNG.normal(0, 0.3, 4)),
         tensor("sqrt2", np.sqrt(2.0)), tensor("one", 1.0), tensor("half", 0.5)])


def rowwise_and_quantized():
    """One-row models: a row times itself as MatMul and as Gemm, both inputs depending on the row."""
    nodes = [helper.make_node("Mul", ["x", "s"], ["p"]),
             helper.make_node("Reshape", ["p", "col_shape"], ["col"]),
             helper.make_node("MatMul", ["p", "col"], ["mm"]),
             helper.make_node("Gemm", ["x", "p"], ["gm"], transB=1),
             helper.make_node("Mul", ["mm", "gm"], ["y"])]
    save("rowwise", nodes, [tensor("s", [1.5, -0.8, 0.6, 1.1]), ints("col_shape", [4, 1])], 4, 1)
    save("quantized", [
        helper.make_node("QuantizeLinear", ["x", "qs", "qz"], ["xq"]),
        helper.make_node("DequantizeLinear", ["xq", "qs", "qz"], ["xd"]),
        helper.make_node("Gemm", ["xd", "w", "b"], ["y"]),
    ], [tensor("qs", 0.05), numpy_helper.from_array(np.asarray(0, dtype=np.uint8), "qz"),
        tensor("w", RNG.normal(0, 1, (4, 2))), tensor("b", [0.0, 0.1])], 4, 2)


def refused():
    gemm = [tensor("w", RNG.normal(0, 1, (4, 2))), tensor("b", [0.0, 0.1])]
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w", "b"], ["y"])], "refused_fixed_batch",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 2])], gemm)
    fixed = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    fixed.ir_version = 8
    onnx.save(fixed, os.path.join(HERE, "refused_fixed_batch.onnx"))
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w", "b"], ["z"]), helper.make_node("Cast", ["z"], ["y"], to=TensorProto.INT64)],
        "refused_int_output",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.INT64, ["N", 2])], gemm)
    integer = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    integer.ir_version = 8
    onnx.save(integer, os.path.join(HERE, "refused_int_output.onnx"))
    save("refused_cast_int", [helper.make_node("Cast", ["x"], ["i"], to=TensorProto.INT64),
                              helper.make_node("Cast", ["i"], ["f"], to=TensorProto.FLOAT),
                              helper.make_node("Gemm", ["f", "w", "b"], ["y"])], gemm, 4, 2)
    save("refused_matmul3d", [helper.make_node("Reshape", ["x", "shape"], ["t"]),
                              helper.make_node("MatMul", ["t", "t"], ["u"]),
                              helper.make_node("Flatten", ["u"], ["f"], axis=1),
                              helper.make_node("Gemm", ["f", "w", "b"], ["y"])],
         gemm + [ints("shape", [-1, 2, 2])], 4, 2)
    save("refused_layer_norm_scale", [helper.make_node("Reshape", ["x", "shape"], ["s"]),
                                      helper.make_node("LayerNormalization", ["x", "s"], ["n"], axis=-1),
                                      helper.make_node("Gemm", ["n", "w", "b"], ["y"])],
         gemm + [ints("shape", [4])], 4, 2, opset=17)


def mixed():
    # its own generator, so adding it left the other models as they were
    rng = np.random.default_rng(11)
    save("mlp_relu_tanh", [
        helper.make_node("Gemm", ["x", "l1_w", "l1_b"], ["h1"]), helper.make_node("Relu", ["h1"], ["a1"]),
        helper.make_node("Gemm", ["a1", "l2_w", "l2_b"], ["h2"]), helper.make_node("Tanh", ["h2"], ["a2"]),
        helper.make_node("Gemm", ["a2", "l3_w", "l3_b"], ["y"]),
    ], [tensor("l1_w", rng.normal(0, 0.7, (6, 24))), tensor("l1_b", rng.normal(0, 0.3, 24)),
        tensor("l2_w", rng.normal(0, 0.6, (24, 12))), tensor("l2_b", rng.normal(0, 0.3, 12)),
        tensor("l3_w", rng.normal(0, 0.8, (12, 2))), tensor("l3_b", rng.normal(0, 0.3, 2))], 6, 2)


def main():
    linear_models()
    mlps()
    op_models()
    rowwise_and_quantized()
    refused()
    mixed()


if __name__ == "__main__":
    main()
