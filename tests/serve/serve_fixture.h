/*
 * Helpers of the serving tests: tiny Gemm models written as ONNX bytes
 * (y = x . W + b), a database with versions of a model, and deterministic
 * random inputs.
 */
#ifndef MLOPS_SERVE_FIXTURE_H
#define MLOPS_SERVE_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "test_support.h"
#include "onnx.pb-c.h"

#define SF_IN 4
#define SF_OUT 3

/* ONNX bytes (malloc) of a model y = x . W + b with W in_width x SF_OUT (row-major) and b SF_OUT. */
static inline uint8_t *sf_gemm_model_in(size_t *len, int64_t in_width, const float *w, const float *b)
{
    Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
    Onnx__GraphProto graph = ONNX__GRAPH_PROTO__INIT;
    Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT, *opsets[1] = {&opset};
    Onnx__ValueInfoProto in = ONNX__VALUE_INFO_PROTO__INIT, out = ONNX__VALUE_INFO_PROTO__INIT;
    Onnx__ValueInfoProto *ins[1] = {&in}, *outs[1] = {&out};
    Onnx__TypeProto type = ONNX__TYPE_PROTO__INIT;
    Onnx__TypeProto__Tensor tensor_type = ONNX__TYPE_PROTO__TENSOR__INIT;
    Onnx__TensorShapeProto shape = ONNX__TENSOR_SHAPE_PROTO__INIT;
    Onnx__TensorShapeProto__Dimension d0 = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT,
                                      d1 = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT, *dims[2] = {&d0, &d1};
    Onnx__NodeProto node = ONNX__NODE_PROTO__INIT, *nodes[1] = {&node};
    Onnx__TensorProto tw = ONNX__TENSOR_PROTO__INIT, tb = ONNX__TENSOR_PROTO__INIT, *inits[2] = {&tw, &tb};
    char *node_in[3] = {(char *)"x", (char *)"W", (char *)"b"}, *node_out[1] = {(char *)"y"};
    int64_t wdims[2] = {in_width, SF_OUT}, bdims[1] = {SF_OUT};
    uint8_t *bytes;

    opset.domain = (char *)"";
    opset.has_version = 1;
    opset.version = 13;
    d0.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    d0.dim_param = (char *)"N";
    d1.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d1.dim_value = in_width;
    shape.n_dim = 2;
    shape.dim = dims;
    tensor_type.has_elem_type = 1;
    tensor_type.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tensor_type.shape = &shape;
    type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type.tensor_type = &tensor_type;
    in.name = (char *)"x";
    in.type = &type;
    out.name = (char *)"y";
    node.name = (char *)"gemm";
    node.op_type = (char *)"Gemm";
    node.n_input = 3;
    node.input = node_in;
    node.n_output = 1;
    node.output = node_out;
    tw.name = (char *)"W";
    tw.n_dims = 2;
    tw.dims = wdims;
    tw.has_data_type = 1;
    tw.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tw.n_float_data = (size_t)in_width * SF_OUT;
    tw.float_data = (float *)w;
    tb.name = (char *)"b";
    tb.n_dims = 1;
    tb.dims = bdims;
    tb.has_data_type = 1;
    tb.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tb.n_float_data = SF_OUT;
    tb.float_data = (float *)b;
    graph.name = (char *)"g";
    graph.n_node = 1;
    graph.node = nodes;
    graph.n_initializer = 2;
    graph.initializer = inits;
    graph.n_input = 1;
    graph.input = ins;
    graph.n_output = 1;
    graph.output = outs;
    model.has_ir_version = 1;
    model.ir_version = 8;
    model.n_opset_import = 1;
    model.opset_import = opsets;
    model.graph = &graph;
    *len = onnx__model_proto__get_packed_size(&model);
    bytes = malloc(*len);
    assert_non_null(bytes);
    onnx__model_proto__pack(&model, bytes);
    return bytes;
}

static inline uint8_t *sf_gemm_model(size_t *len, const float *w, const float *b)
{
    return sf_gemm_model_in(len, SF_IN, w, b);
}

/* A model whose every output row is (tag, 0, 0): its answers say which version produced them. */
static inline uint8_t *sf_tag_model(size_t *len, float tag)
{
    float w[SF_IN * SF_OUT] = {0}, b[SF_OUT] = {0};
    b[0] = tag;
    return sf_gemm_model(len, w, b);
}

/* A model with weights drawn from `seed` (values in [-1, 1]) and no bias. */
static inline uint8_t *sf_random_model(size_t *len, uint64_t seed)
{
    float w[SF_IN * SF_OUT], b[SF_OUT] = {0};
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 7;
    size_t i;
    for (i = 0; i < SF_IN * SF_OUT; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        w[i] = (float)((double)(x >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
    return sf_gemm_model(len, w, b);
}

/* Register `len` bytes as the next version of `model`. */
static inline int64_t sf_register(mlops_db *db, const char *model, uint8_t *bytes, size_t len)
{
    int64_t version = 0;
    assert_int_equal(mlops_version_register(&version, db, model, bytes, len, NULL), MLOPS_OK);
    free(bytes);
    return version;
}

static inline void sf_sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static inline int64_t sf_register_tag(mlops_db *db, const char *model, float tag)
{
    size_t len = 0;
    uint8_t *bytes = sf_tag_model(&len, tag);
    return sf_register(db, model, bytes, len);
}

static inline mlops_db *sf_open(const char *name)
{
    mlops_db *db = NULL;
    assert_int_equal(mlops_db_open(&db, ts_path(name), "{\"busy_timeout_ms\": 60000, \"actor\": \"ops\"}"),
                     MLOPS_OK);
    return db;
}

/* Deterministic normal values (Box–Muller over xorshift) with a mean shift. */
static inline void sf_normals(float *out, size_t n, uint64_t seed, double shift)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 3;
    size_t i;
    for (i = 0; i < n; i++) {
        double u1, u2;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        u1 = ((double)(x >> 11) + 1.0) / 9007199254740993.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        u2 = (double)(x >> 11) / 9007199254740992.0;
        out[i] = (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2) + shift);
    }
}

static inline cJSON *sf_metrics(mlops_router *router)
{
    char *text = NULL;
    cJSON *json;
    assert_int_equal(mlops_router_metrics_json(&text, router), MLOPS_OK);
    json = cJSON_Parse(text);
    assert_non_null(json);
    mlops_free(text);
    return json;
}

/* The metrics series of (arm, version), or NULL. */
static inline cJSON *sf_series(cJSON *metrics, const char *arm, int64_t version)
{
    cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItem(metrics, "series"))
    {
        if (strcmp(cJSON_GetObjectItem(s, "arm")->valuestring, arm) == 0 &&
            (int64_t)cJSON_GetObjectItem(s, "version")->valuedouble == version)
            return s;
    }
    return NULL;
}

static inline double sf_number(cJSON *obj, const char *a, const char *b)
{
    cJSON *node = cJSON_GetObjectItem(obj, a);
    if (b != NULL)
        node = cJSON_GetObjectItem(node, b);
    assert_non_null(node);
    return cJSON_IsNumber(node) ? node->valuedouble : NAN;
}

#endif /* MLOPS_SERVE_FIXTURE_H */
