/*
 * ONNX import: decode a ModelProto with the protobuf-c code generated from
 * onnx.proto, and turn it into a graph of values and steps in execution
 * order. Everything a model may get wrong is caught here or in the plan
 * compiler, never at run time: unsupported ops and types, external data,
 * opsets outside 9..17, cycles, missing inputs, oversized tensors.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "plan_int.h"

#define SUB "infer"

/* ---- protobuf-c allocations go through the library's allocator ------------ */
static void *pb_alloc(void *data, size_t size)
{
    (void)data;
    return mlops__malloc(size);
}

static void pb_free(void *data, void *ptr)
{
    (void)data;
    mlops__free(ptr);
}

static ProtobufCAllocator pb_allocator = {pb_alloc, pb_free, NULL};

/* ---- element types ---------------------------------------------------------- */
size_t mlops__dtype_size(int32_t dtype)
{
    switch (dtype) {
    case MLOPS__DT_UINT8:
    case MLOPS__DT_INT8:
    case MLOPS__DT_BOOL: return 1;
    case MLOPS__DT_FLOAT:
    case MLOPS__DT_INT32: return 4;
    case MLOPS__DT_INT64:
    case MLOPS__DT_DOUBLE: return 8;
    default: return 0;
    }
}

const char *mlops__dtype_name(int32_t dtype)
{
    static const char *const names[] = {"undefined", "float", "uint8", "int8", "uint16", "int16", "int32",
                                        "int64", "string", "bool", "float16", "double", "uint32", "uint64",
                                        "complex64", "complex128", "bfloat16"};
    if (dtype < 0 || (size_t)dtype >= sizeof names / sizeof names[0])
        return "unknown";
    return names[dtype];
}

int64_t mlops__tensor_count(const mlops__tensor *t)
{
    int64_t count = 1;
    int32_t i;
    for (i = 0; i < t->rank; i++)
        count *= t->dims[i];
    return count;
}

/* ---- op names ------------------------------------------------------------------ */
static const char *const op_names[MLOPS__OP_COUNT] = {
    "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Erf", "Softmax",
    "LogSoftmax", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Clip",
    "BatchNormalization", "LayerNormalization", "Cast", "Constant", "QuantizeLinear", "DequantizeLinear",
    "DynamicQuantizeLinear", "MatMulInteger", "QLinearMatMul", "Linear"};

const char *mlops__op_name(mlops__op op)
{
    return (op >= 0 && op < MLOPS__OP_COUNT) ? op_names[op] : "?";
}

int mlops__op_lookup(const char *op_type)
{
    int i;
    for (i = 0; i < MLOPS__OP_LINEAR; i++)
        if (strcmp(op_names[i], op_type) == 0)
            return i;
    return -1;
}

/* Input and output counts each op accepts. */
typedef struct arity {
    int8_t min_in, max_in, min_out, max_out;
} arity;

static const arity op_arity[MLOPS__OP_LINEAR] = {
    [MLOPS__OP_GEMM] = {2, 3, 1, 1},           [MLOPS__OP_MATMUL] = {2, 2, 1, 1},
    [MLOPS__OP_ADD] = {2, 2, 1, 1},            [MLOPS__OP_SUB] = {2, 2, 1, 1},
    [MLOPS__OP_MUL] = {2, 2, 1, 1},            [MLOPS__OP_DIV] = {2, 2, 1, 1},
    [MLOPS__OP_RELU] = {1, 1, 1, 1},           [MLOPS__OP_LEAKY_RELU] = {1, 1, 1, 1},
    [MLOPS__OP_SIGMOID] = {1, 1, 1, 1},        [MLOPS__OP_TANH] = {1, 1, 1, 1},
    [MLOPS__OP_ERF] = {1, 1, 1, 1},            [MLOPS__OP_SOFTMAX] = {1, 1, 1, 1},
    [MLOPS__OP_LOG_SOFTMAX] = {1, 1, 1, 1},    [MLOPS__OP_FLATTEN] = {1, 1, 1, 1},
    [MLOPS__OP_RESHAPE] = {2, 2, 1, 1},        [MLOPS__OP_SQUEEZE] = {1, 2, 1, 1},
    [MLOPS__OP_UNSQUEEZE] = {1, 2, 1, 1},      [MLOPS__OP_IDENTITY] = {1, 1, 1, 1},
    [MLOPS__OP_DROPOUT] = {1, 3, 1, 2},        [MLOPS__OP_CLIP] = {1, 3, 1, 1},
    [MLOPS__OP_BATCH_NORM] = {5, 5, 1, 5},     [MLOPS__OP_LAYER_NORM] = {2, 3, 1, 3},
    [MLOPS__OP_CAST] = {1, 1, 1, 1},           [MLOPS__OP_CONSTANT] = {0, 0, 1, 1},
    [MLOPS__OP_QUANTIZE] = {2, 3, 1, 1},       [MLOPS__OP_DEQUANTIZE] = {2, 3, 1, 1},
    [MLOPS__OP_DYNAMIC_QUANTIZE] = {1, 1, 3, 3}, [MLOPS__OP_MATMUL_INTEGER] = {2, 4, 1, 1},
    [MLOPS__OP_QLINEAR_MATMUL] = {8, 8, 1, 1},
};

/* ---- name table: value name -> index, open addressing ---------------------- */
typedef struct name_table {
    int32_t *slots; /* -1 = empty */
    size_t cap;     /* power of two */
    const mlops__graph *graph;
} name_table;

static int table_init(name_table *table, const mlops__graph *graph, size_t expected)
{
    size_t i;
    table->cap = 64;
    while (table->cap < expected * 2)
        table->cap *= 2;
    table->graph = graph;
    table->slots = mlops__malloc(table->cap * sizeof *table->slots);
    if (table->slots == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for the name table");
    for (i = 0; i < table->cap; i++)
        table->slots[i] = -1;
    return MLOPS_OK;
}

static size_t table_find_slot(const name_table *table, const char *name)
{
    size_t slot = (size_t)mlops__hash64(name, strlen(name), 0) & (table->cap - 1);
    while (table->slots[slot] >= 0 && strcmp(table->graph->values[table->slots[slot]].name, name) != 0)
        slot = (slot + 1) & (table->cap - 1);
    return slot;
}

static int32_t table_get(const name_table *table, const char *name)
{
    return table->slots[table_find_slot(table, name)];
}

/* ---- graph building ------------------------------------------------------------- */
void mlops__step_release(mlops__step *step)
{
    mlops__free(step->name);
    mlops__free(step->in);
    mlops__free(step->out);
    mlops__free(step->axes);
    mlops__free(step->value.data);
    mlops__free(step->fused);
    if (step->linear != NULL) {
        mlops__qlinear_free(step->linear->q);
        mlops__free(step->linear->w);
        mlops__free(step->linear->bias);
        mlops__free(step->linear);
    }
    memset(step, 0, sizeof *step);
}

void mlops__graph_free(mlops__graph *graph)
{
    size_t i;
    if (graph == NULL)
        return;
    for (i = 0; i < graph->n_values; i++) {
        mlops__free(graph->values[i].name);
        if (graph->values[i].is_const)
            mlops__free(graph->values[i].t.data);
    }
    for (i = 0; i < graph->n_steps; i++)
        mlops__step_release(&graph->steps[i]);
    mlops__free(graph->values);
    mlops__free(graph->steps);
    mlops__free(graph->inputs);
    mlops__free(graph->outputs);
    mlops__free(graph);
}

/* Add a value called `name` (unique); its index in *index_out. */
static int add_value(int32_t *index_out, mlops__graph *graph, name_table *table, const char *name)
{
    mlops__value *value;
    size_t slot;
    if (graph->n_values >= (size_t)INT32_MAX / 2)
        return mlops__error(MLOPS_ELIMIT, SUB, "too many values");
    if (mlops__grow((void **)&graph->values, &graph->cap_values, graph->n_values + 1, sizeof *graph->values) != 0)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for values");
    if (graph->n_values * 2 >= table->cap) {
        name_table bigger;
        size_t i;
        if (table_init(&bigger, graph, graph->n_values * 2 + 2) != MLOPS_OK)
            return MLOPS_ENOMEM;
        for (i = 0; i < graph->n_values; i++)
            bigger.slots[table_find_slot(&bigger, graph->values[i].name)] = (int32_t)i;
        mlops__free(table->slots);
        *table = bigger;
    }
    slot = table_find_slot(table, name);
    if (table->slots[slot] >= 0)
        return mlops__error(MLOPS_EFORMAT, SUB, "value \"%s\" is defined twice", name);
    value = &graph->values[graph->n_values];
    memset(value, 0, sizeof *value);
    value->name = mlops__strdup(name);
    if (value->name == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for value names");
    value->producer = -1;
    table->slots[slot] = (int32_t)graph->n_values;
    *index_out = (int32_t)graph->n_values++;
    return MLOPS_OK;
}

static int check_dims(mlops__tensor *t, size_t n_dims, const int64_t *dims, const char *what)
{
    size_t i;
    int64_t count = 1;
    if (n_dims > MLOPS__MAX_RANK)
        return mlops__error(MLOPS_ELIMIT, SUB, "%s has %zu dimensions (at most %d)", what, n_dims,
                            MLOPS__MAX_RANK);
    t->rank = (int32_t)n_dims;
    for (i = 0; i < n_dims; i++) {
        if (dims[i] < 0)
            return mlops__error(MLOPS_EFORMAT, SUB, "%s: dimension %zu is negative", what, i);
        if (dims[i] > 0 && count > MLOPS__MAX_TENSOR_ELEMS / dims[i])
            return mlops__error(MLOPS_ELIMIT, SUB, "%s has more than %lld elements", what,
                                (long long)MLOPS__MAX_TENSOR_ELEMS);
        count *= dims[i];
        t->dims[i] = dims[i];
    }
    return MLOPS_OK;
}

/* `v` as an integer: truncated, saturated at the int64 range, 0 for NaN (a float field read as integers). */
static int64_t saturate_int64(double v)
{
    if (isnan(v))
        return 0;
    if (v <= -9223372036854775808.0)
        return INT64_MIN;
    if (v >= 9223372036854775808.0)
        return INT64_MAX;
    return (int64_t)v;
}

/* Copy `count` typed field values into the tensor's data. */
static void copy_typed(mlops__tensor *t, const void *field, int field_kind, size_t count)
{
    size_t i;
    for (i = 0; i < count; i++) {
        double v = 0;
        int64_t iv = 0;
        switch (field_kind) {
        case 'f': v = ((const float *)field)[i]; iv = saturate_int64(v); break;
        case 'i': iv = ((const int32_t *)field)[i]; v = (double)iv; break;
        case 'l': iv = ((const int64_t *)field)[i]; v = (double)iv; break;
        default: v = ((const double *)field)[i]; iv = saturate_int64(v); break;
        }
        switch (t->dtype) {
        case MLOPS__DT_FLOAT: ((float *)t->data)[i] = (float)v; break;
        case MLOPS__DT_DOUBLE: ((double *)t->data)[i] = v; break;
        case MLOPS__DT_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)iv; break;
        case MLOPS__DT_INT8: ((int8_t *)t->data)[i] = (int8_t)iv; break;
        case MLOPS__DT_BOOL: ((uint8_t *)t->data)[i] = iv != 0; break;
        case MLOPS__DT_INT32: ((int32_t *)t->data)[i] = (int32_t)iv; break;
        default: ((int64_t *)t->data)[i] = iv; break;
        }
    }
}

/* Convert a TensorProto; `what` names it in errors. */
static int convert_tensor(mlops__tensor *out, const Onnx__TensorProto *proto, const char *what)
{
    mlops__tensor t;
    size_t size, count, have = 0;
    const void *field = NULL;
    int kind = 0, rc;
    memset(&t, 0, sizeof t);
    if ((proto->has_data_location && proto->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
        proto->n_external_data > 0)
        return mlops__error(MLOPS_EUNSUPPORTED, SUB,
                            "%s: external data is not supported (store the weights inside the model)", what);
    t.dtype = proto->data_type;
    size = mlops__dtype_size(t.dtype);
    if (size == 0)
        return mlops__error(MLOPS_EUNSUPPORTED, SUB, "%s: element type %s is not supported", what,
                            mlops__dtype_name(t.dtype));
    rc = check_dims(&t, proto->n_dims, proto->dims, what);
    if (rc != MLOPS_OK)
        return rc;
    count = (size_t)mlops__tensor_count(&t);
    if (proto->has_raw_data) {
        if (proto->raw_data.len != count * size)
            return mlops__error(MLOPS_EFORMAT, SUB, "%s: raw_data holds %zu bytes, its shape needs %zu", what,
                                proto->raw_data.len, count * size);
    } else {
        switch (t.dtype) {
        case MLOPS__DT_FLOAT: field = proto->float_data; have = proto->n_float_data; kind = 'f'; break;
        case MLOPS__DT_INT64: field = proto->int64_data; have = proto->n_int64_data; kind = 'l'; break;
        case MLOPS__DT_DOUBLE: field = proto->double_data; have = proto->n_double_data; kind = 'd'; break;
        default: field = proto->int32_data; have = proto->n_int32_data; kind = 'i'; break;
        }
        if (have != count)
            return mlops__error(MLOPS_EFORMAT, SUB, "%s: holds %zu values, its shape needs %zu", what, have,
                                count);
    }
    t.data = mlops__malloc(count * size + 1);
    if (t.data == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "%s: out of memory for %zu bytes", what, count * size);
    if (proto->has_raw_data) {
        if (count > 0)
            memcpy(t.data, proto->raw_data.data, count * size);
    }
    else
        copy_typed(&t, field, kind, count);
    *out = t;
    return MLOPS_OK;
}

int mlops__onnx_tensor(mlops__tensor *out, const void *bytes, size_t len)
{
    Onnx__TensorProto *proto;
    int rc;
    if (out == NULL || bytes == NULL)
        return mlops__error_null(SUB, "mlops__onnx_tensor", out == NULL ? "out" : "bytes");
    proto = onnx__tensor_proto__unpack(&pb_allocator, len, bytes);
    if (proto == NULL)
        return mlops__error(MLOPS_EFORMAT, SUB, "not a valid ONNX TensorProto (%zu bytes)", len);
    rc = convert_tensor(out, proto, proto->name != NULL && proto->name[0] ? proto->name : "tensor");
    onnx__tensor_proto__free_unpacked(proto, &pb_allocator);
    return rc;
}

/* ---- attributes ---------------------------------------------------------------- */
static const Onnx__AttributeProto *find_attr(const Onnx__NodeProto *node, const char *name)
{
    size_t i;
    for (i = 0; i < node->n_attribute; i++)
        if (node->attribute[i]->name != NULL && strcmp(node->attribute[i]->name, name) == 0)
            return node->attribute[i];
    return NULL;
}

static int attr_int(int64_t *out, const Onnx__NodeProto *node, const char *name, int64_t fallback)
{
    const Onnx__AttributeProto *attr = find_attr(node, name);
    *out = fallback;
    if (attr == NULL)
        return MLOPS_OK;
    if (!attr->has_i)
        return mlops__error(MLOPS_EFORMAT, SUB, "attribute \"%s\" must be an integer", name);
    *out = attr->i;
    return MLOPS_OK;
}

static int attr_float(float *out, int *present, const Onnx__NodeProto *node, const char *name, float fallback)
{
    const Onnx__AttributeProto *attr = find_attr(node, name);
    *out = fallback;
    if (present != NULL)
        *present = attr != NULL;
    if (attr == NULL)
        return MLOPS_OK;
    if (!attr->has_f)
        return mlops__error(MLOPS_EFORMAT, SUB, "attribute \"%s\" must be a float", name);
    *out = attr->f;
    return MLOPS_OK;
}

/* A Constant node's value: "value" (tensor) or value_float(s) / value_int(s). */
static int constant_value(mlops__tensor *out, const Onnx__NodeProto *node)
{
    const Onnx__AttributeProto *attr;
    memset(out, 0, sizeof *out);
    if ((attr = find_attr(node, "value")) != NULL) {
        if (attr->t == NULL)
            return mlops__error(MLOPS_EFORMAT, SUB, "attribute \"value\" must be a tensor");
        return convert_tensor(out, attr->t, "attribute \"value\"");
    }
    if ((attr = find_attr(node, "value_float")) != NULL || (attr = find_attr(node, "value_int")) != NULL) {
        int is_float = attr->has_f;
        if (!attr->has_f && !attr->has_i)
            return mlops__error(MLOPS_EFORMAT, SUB, "attribute \"%s\" has no value", attr->name);
        out->dtype = is_float ? MLOPS__DT_FLOAT : MLOPS__DT_INT64;
        out->data = mlops__malloc(8);
        if (out->data == NULL)
            return mlops__error(MLOPS_ENOMEM, SUB, "out of memory");
        if (is_float)
            *(float *)out->data = attr->f;
        else
            *(int64_t *)out->data = attr->i;
        return MLOPS_OK;
    }
    if ((attr = find_attr(node, "value_floats")) != NULL || (attr = find_attr(node, "value_ints")) != NULL) {
        int is_float = strcmp(attr->name, "value_floats") == 0;
        size_t n = is_float ? attr->n_floats : attr->n_ints;
        out->dtype = is_float ? MLOPS__DT_FLOAT : MLOPS__DT_INT64;
        out->rank = 1;
        out->dims[0] = (int64_t)n;
        out->data = mlops__malloc(n * 8 + 1);
        if (out->data == NULL)
            return mlops__error(MLOPS_ENOMEM, SUB, "out of memory");
        if (n > 0)
            memcpy(out->data, is_float ? (const void *)attr->floats : (const void *)attr->ints,
                   n * (is_float ? 4 : 8));
        return MLOPS_OK;
    }
    return mlops__error(MLOPS_EUNSUPPORTED, SUB,
                        "only tensor, float and int values are supported (sparse and string values are not)");
}

/* Read the attributes `step` needs; errors are prefixed by the caller. */
static int read_attributes(mlops__step *step, const Onnx__NodeProto *node)
{
    int rc = MLOPS_OK;
    int64_t v;
    step->alpha = 1.0f;
    step->beta = 1.0f;
    switch (step->op) {
    case MLOPS__OP_GEMM:
        if ((rc = attr_float(&step->alpha, NULL, node, "alpha", 1.0f)) != 0 ||
            (rc = attr_float(&step->beta, NULL, node, "beta", 1.0f)) != 0 ||
            (rc = attr_int(&step->trans_a, node, "transA", 0)) != 0 ||
            (rc = attr_int(&step->trans_b, node, "transB", 0)) != 0)
            return rc;
        break;
    case MLOPS__OP_LEAKY_RELU:
        return attr_float(&step->alpha, NULL, node, "alpha", 0.01f);
    case MLOPS__OP_SOFTMAX:
    case MLOPS__OP_LOG_SOFTMAX:
        return attr_int(&step->axis, node, "axis", step->opset >= 13 ? -1 : 1);
    case MLOPS__OP_FLATTEN:
        return attr_int(&step->axis, node, "axis", 1);
    case MLOPS__OP_RESHAPE:
        return attr_int(&step->allowzero, node, "allowzero", 0);
    case MLOPS__OP_SQUEEZE:
    case MLOPS__OP_UNSQUEEZE: {
        const Onnx__AttributeProto *attr = find_attr(node, "axes");
        if (attr != NULL && attr->n_ints > 0) {
            step->axes = mlops__malloc(attr->n_ints * sizeof *step->axes);
            if (step->axes == NULL)
                return mlops__error(MLOPS_ENOMEM, SUB, "out of memory");
            memcpy(step->axes, attr->ints, attr->n_ints * sizeof *step->axes);
            step->n_axes = attr->n_ints;
        }
        break;
    }
    case MLOPS__OP_DROPOUT:
        if (step->opset < 12) {
            if ((rc = attr_int(&v, node, "is_test", 1)) != 0)
                return rc;
        }
        break;
    case MLOPS__OP_CLIP:
        if (step->opset < 11) {
            if ((rc = attr_float(&step->alpha, &step->has_min, node, "min", -INFINITY)) != 0 ||
                (rc = attr_float(&step->beta, &step->has_max, node, "max", INFINITY)) != 0)
                return rc;
        }
        break;
    case MLOPS__OP_BATCH_NORM:
        if ((rc = attr_float(&step->epsilon, NULL, node, "epsilon", 1e-5f)) != 0 ||
            (rc = attr_int(&step->training, node, "training_mode", 0)) != 0)
            return rc;
        if (step->training != 0 || step->n_out > 1)
            return mlops__error(MLOPS_EUNSUPPORTED, SUB,
                                "training_mode and the running statistics outputs are not supported (inference only)");
        break;
    case MLOPS__OP_LAYER_NORM:
        if ((rc = attr_float(&step->epsilon, NULL, node, "epsilon", 1e-5f)) != 0 ||
            (rc = attr_int(&step->axis, node, "axis", -1)) != 0)
            return rc;
        break;
    case MLOPS__OP_CAST:
        if (find_attr(node, "to") == NULL)
            return mlops__error(MLOPS_EFORMAT, SUB, "attribute \"to\" is required");
        if ((rc = attr_int(&step->to, node, "to", 0)) != 0)
            return rc;
        if (mlops__dtype_size((int32_t)step->to) == 0)
            return mlops__error(MLOPS_EUNSUPPORTED, SUB, "cast to %s is not supported",
                                mlops__dtype_name((int32_t)step->to));
        break;
    case MLOPS__OP_CONSTANT:
        return constant_value(&step->value, node);
    case MLOPS__OP_QUANTIZE:
    case MLOPS__OP_DEQUANTIZE:
        return attr_int(&step->axis, node, "axis", 1);
    default:
        break;
    }
    return rc;
}

/* ---- the model --------------------------------------------------------------------- */
static int64_t model_opset(const Onnx__ModelProto *model)
{
    size_t i;
    int64_t opset = -1;
    for (i = 0; i < model->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *id = model->opset_import[i];
        if (id->domain == NULL || id->domain[0] == '\0' || strcmp(id->domain, "ai.onnx") == 0)
            opset = id->has_version ? id->version : 1;
    }
    return opset;
}

static const mlops__binding *find_binding(const mlops__binding *bindings, size_t n, const char *name)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strcmp(bindings[i].name, name) == 0)
            return &bindings[i];
    return NULL;
}

static int add_initializers(mlops__graph *graph, name_table *table, const Onnx__GraphProto *g)
{
    size_t i;
    char what[300];
    for (i = 0; i < g->n_initializer; i++) {
        const Onnx__TensorProto *init = g->initializer[i];
        int32_t index;
        int rc;
        if (init->name == NULL || init->name[0] == '\0')
            return mlops__error(MLOPS_EFORMAT, SUB, "initializer %zu has no name", i);
        snprintf(what, sizeof what, "initializer \"%s\"", init->name);
        if ((rc = add_value(&index, graph, table, init->name)) != MLOPS_OK)
            return rc;
        if ((rc = convert_tensor(&graph->values[index].t, init, what)) != MLOPS_OK)
            return rc;
        graph->values[index].is_const = 1;
    }
    if (g->n_sparse_initializer > 0)
        return mlops__error(MLOPS_EUNSUPPORTED, SUB, "sparse initializers are not supported");
    return MLOPS_OK;
}

static int copy_binding(mlops__value *value, const mlops__tensor *tensor)
{
    size_t bytes;
    value->t = *tensor;
    if (mlops__dtype_size(tensor->dtype) == 0)
        return mlops__error(MLOPS_EUNSUPPORTED, SUB, "input \"%s\": element type %s is not supported",
                            value->name, mlops__dtype_name(tensor->dtype));
    bytes = (size_t)mlops__tensor_count(tensor) * mlops__dtype_size(tensor->dtype);
    value->t.data = mlops__malloc(bytes + 1);
    if (value->t.data == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for input \"%s\"", value->name);
    if (bytes > 0)
        memcpy(value->t.data, tensor->data, bytes);
    value->is_const = 1;
    return MLOPS_OK;
}

static int add_inputs(mlops__graph *graph, name_table *table, const Onnx__GraphProto *g,
                      const mlops__binding *bindings, size_t n_bindings)
{
    size_t i, d;
    int rc;
    graph->inputs = mlops__calloc(g->n_input + 1, sizeof *graph->inputs);
    if (graph->inputs == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for inputs");
    for (i = 0; i < g->n_input; i++) {
        const Onnx__ValueInfoProto *info = g->input[i];
        const Onnx__TypeProto__Tensor *type;
        const mlops__binding *binding;
        mlops__value *value;
        int32_t index;
        if (info->name == NULL || info->name[0] == '\0')
            return mlops__error(MLOPS_EFORMAT, SUB, "graph input %zu has no name", i);
        if (table_get(table, info->name) >= 0)
            continue; /* an initializer, listed as an input by older exporters */
        if ((rc = add_value(&index, graph, table, info->name)) != MLOPS_OK)
            return rc;
        value = &graph->values[index];
        binding = find_binding(bindings, n_bindings, info->name);
        if (binding != NULL) {
            if ((rc = copy_binding(value, binding->tensor)) != MLOPS_OK)
                return rc;
            continue;
        }
        if (info->type == NULL || info->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
            return mlops__error(MLOPS_EUNSUPPORTED, SUB, "input \"%s\": only tensor inputs are supported",
                                info->name);
        type = info->type->tensor_type;
        value->t.dtype = type->elem_type;
        if (mlops__dtype_size(value->t.dtype) == 0)
            return mlops__error(MLOPS_EUNSUPPORTED, SUB, "input \"%s\": element type %s is not supported",
                                info->name, mlops__dtype_name(value->t.dtype));
        if (type->shape == NULL)
            return mlops__error(MLOPS_EUNSUPPORTED, SUB, "input \"%s\" has no shape", info->name);
        if (type->shape->n_dim > MLOPS__MAX_RANK)
            return mlops__error(MLOPS_ELIMIT, SUB, "input \"%s\" has %zu dimensions (at most %d)", info->name,
                                type->shape->n_dim, MLOPS__MAX_RANK);
        value->t.rank = (int32_t)type->shape->n_dim;
        for (d = 0; d < type->shape->n_dim; d++) {
            const Onnx__TensorShapeProto__Dimension *dim = type->shape->dim[d];
            if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && dim->dim_value >= 0) {
                value->t.dims[d] = dim->dim_value;
            } else {
                value->t.dims[d] = -1; /* symbolic */
                if (d == 0)
                    value->batch = 1;
            }
        }
        graph->inputs[graph->n_inputs++] = index;
    }
    return MLOPS_OK;
}

static char *step_name(const Onnx__NodeProto *node, size_t index)
{
    char buf[32];
    if (node->name != NULL && node->name[0] != '\0')
        return mlops__strdup(node->name);
    snprintf(buf, sizeof buf, "#%zu", index);
    return mlops__strdup(buf);
}

/* Create one step per node with its outputs as values; inputs are resolved later. */
static int add_nodes(mlops__graph *graph, name_table *table, const Onnx__GraphProto *g)
{
    size_t i, j;
    graph->steps = mlops__calloc(g->n_node + 1, sizeof *graph->steps);
    if (graph->steps == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for %zu nodes", g->n_node);
    graph->cap_steps = g->n_node + 1;
    for (i = 0; i < g->n_node; i++) {
        const Onnx__NodeProto *node = g->node[i];
        mlops__step *step = &graph->steps[graph->n_steps];
        const char *op_type = node->op_type != NULL ? node->op_type : "";
        int op;
        step->name = step_name(node, i);
        step->opset = graph->opset;
        graph->n_steps++;
        if (step->name == NULL)
            return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for node names");
        op = mlops__op_lookup(op_type);
        if (node->domain != NULL && node->domain[0] != '\0' && strcmp(node->domain, "ai.onnx") != 0)
            return mlops__error(MLOPS_EUNSUPPORTED, SUB, "node \"%s\" (%s): operator domain \"%s\" is not supported",
                                step->name, op_type, node->domain);
        if (op < 0)
            return mlops__error(MLOPS_EUNSUPPORTED, SUB, "node \"%s\" (%s): unsupported op", step->name, op_type);
        step->op = (mlops__op)op;
        if ((int)node->n_input < op_arity[op].min_in || (int)node->n_input > op_arity[op].max_in ||
            (int)node->n_output < op_arity[op].min_out || (int)node->n_output > op_arity[op].max_out)
            return mlops__error(MLOPS_EFORMAT, SUB,
                                "node \"%s\" (%s): %zu inputs and %zu outputs (expected %d..%d and %d..%d)",
                                step->name, op_type, node->n_input, node->n_output, op_arity[op].min_in,
                                op_arity[op].max_in, op_arity[op].min_out, op_arity[op].max_out);
        step->n_in = (int32_t)node->n_input;
        step->n_out = (int32_t)node->n_output;
        step->in = mlops__malloc((node->n_input + 1) * sizeof *step->in);
        step->out = mlops__malloc((node->n_output + 1) * sizeof *step->out);
        if (step->in == NULL || step->out == NULL)
            return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for node \"%s\"", step->name);
        for (j = 0; j < node->n_output; j++) {
            step->out[j] = -1;
            if (node->output[j] == NULL || node->output[j][0] == '\0')
                continue;
            if (add_value(&step->out[j], graph, table, node->output[j]) != MLOPS_OK)
                return mlops__error_prefix("node \"%s\" (%s)", step->name, op_type);
            graph->values[step->out[j]].producer = (int32_t)(graph->n_steps - 1);
        }
        if (step->out[0] < 0)
            return mlops__error(MLOPS_EFORMAT, SUB, "node \"%s\" (%s): the first output has no name", step->name,
                                op_type);
        if (read_attributes(step, node) != MLOPS_OK)
            return mlops__error_prefix("node \"%s\" (%s)", step->name, op_type);
    }
    return MLOPS_OK;
}

static int resolve_inputs(mlops__graph *graph, const name_table *table, const Onnx__GraphProto *g)
{
    size_t i, j;
    for (i = 0; i < graph->n_steps; i++) {
        const Onnx__NodeProto *node = g->node[i];
        mlops__step *step = &graph->steps[i];
        for (j = 0; j < node->n_input; j++) {
            step->in[j] = -1;
            if ((node->input[j] == NULL || node->input[j][0] == '\0') && (int)j < op_arity[step->op].min_in)
                return mlops__error(MLOPS_EFORMAT, SUB, "node \"%s\" (%s): required input %zu has no name",
                                    step->name, mlops__op_name(step->op), j);
            if (node->input[j] == NULL || node->input[j][0] == '\0')
                continue;
            step->in[j] = table_get(table, node->input[j]);
            if (step->in[j] < 0)
                return mlops__error(MLOPS_EFORMAT, SUB,
                                    "node \"%s\" (%s): input \"%s\" is not produced by any node, initializer or "
                                    "graph input",
                                    step->name, mlops__op_name(step->op), node->input[j]);
        }
        if (step->in[0] < 0 && step->n_in > 0)
            return mlops__error(MLOPS_EFORMAT, SUB, "node \"%s\" (%s): the first input is missing", step->name,
                                mlops__op_name(step->op));
    }
    return MLOPS_OK;
}

/* Order the steps so that each runs after the producers of its inputs (Kahn); a cycle is an error. */
static int topological_order(mlops__graph *graph)
{
    size_t n = graph->n_steps, nv = graph->n_values, head = 0, tail = 0, i, edges = 0;
    int32_t *pending = mlops__calloc(n + 1, sizeof *pending);
    int32_t *queue = mlops__malloc((n + 1) * sizeof *queue);
    int32_t *position = mlops__malloc((n + 1) * sizeof *position);
    size_t *first = mlops__calloc(nv + 2, sizeof *first); /* consumers of value v: first[v] .. first[v+1] */
    int32_t *consumers = NULL;
    mlops__step *ordered = mlops__calloc(n + 1, sizeof *ordered);
    int rc = MLOPS_OK;
    int32_t s, j, v;
    if (pending == NULL || queue == NULL || position == NULL || first == NULL || ordered == NULL)
        goto out_nomem;
    for (i = 0; i < n; i++)
        for (j = 0; j < graph->steps[i].n_in; j++)
            if ((v = graph->steps[i].in[j]) >= 0 && graph->values[v].producer >= 0) {
                pending[i]++;
                first[v + 2]++;
                edges++;
            }
    for (i = 2; i < nv + 2; i++)
        first[i] += first[i - 1];
    consumers = mlops__malloc((edges + 1) * sizeof *consumers);
    if (consumers == NULL)
        goto out_nomem;
    for (i = 0; i < n; i++)
        for (j = 0; j < graph->steps[i].n_in; j++)
            if ((v = graph->steps[i].in[j]) >= 0 && graph->values[v].producer >= 0)
                consumers[first[v + 1]++] = (int32_t)i;
    for (i = 0; i < n; i++)
        if (pending[i] == 0)
            queue[tail++] = (int32_t)i;
    while (head < tail) {
        s = queue[head++];
        for (j = 0; j < graph->steps[s].n_out; j++) {
            size_t c;
            if ((v = graph->steps[s].out[j]) < 0)
                continue;
            for (c = first[v]; c < first[v + 1]; c++)
                if (--pending[consumers[c]] == 0)
                    queue[tail++] = consumers[c];
        }
    }
    if (tail < n) {
        for (i = 0; i < n && pending[i] == 0; i++)
            ;
        rc = mlops__error(MLOPS_EFORMAT, SUB, "node \"%s\" (%s): the graph has a cycle through this node",
                          graph->steps[i].name, mlops__op_name(graph->steps[i].op));
        goto out;
    }
    for (i = 0; i < n; i++) {
        ordered[i] = graph->steps[queue[i]];
        position[queue[i]] = (int32_t)i;
    }
    for (i = 0; i < nv; i++)
        if (graph->values[i].producer >= 0)
            graph->values[i].producer = position[graph->values[i].producer];
    memcpy(graph->steps, ordered, n * sizeof *ordered);
    goto out;
out_nomem:
    rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory ordering %zu nodes", n);
out:
    mlops__free(pending);
    mlops__free(queue);
    mlops__free(position);
    mlops__free(first);
    mlops__free(consumers);
    mlops__free(ordered);
    return rc;
}

static int add_outputs(mlops__graph *graph, const name_table *table, const Onnx__GraphProto *g)
{
    size_t i;
    if (g->n_output == 0)
        return mlops__error(MLOPS_EFORMAT, SUB, "the graph has no outputs");
    graph->outputs = mlops__malloc(g->n_output * sizeof *graph->outputs);
    if (graph->outputs == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for outputs");
    for (i = 0; i < g->n_output; i++) {
        const char *name = g->output[i]->name != NULL ? g->output[i]->name : "";
        int32_t index = table_get(table, name);
        if (index < 0)
            return mlops__error(MLOPS_EFORMAT, SUB, "graph output \"%s\" is not produced by any node", name);
        graph->outputs[graph->n_outputs++] = index;
    }
    return MLOPS_OK;
}

int mlops__onnx_import(mlops__graph **out, const void *bytes, size_t len, const mlops__binding *bindings,
                       size_t n_bindings)
{
    Onnx__ModelProto *model = NULL;
    const Onnx__GraphProto *g;
    mlops__graph *graph = NULL;
    name_table table = {NULL, 0, NULL};
    int rc;
    *out = NULL;
    if (len > MLOPS__MAX_MODEL_BYTES) {
        rc = mlops__error(MLOPS_ELIMIT, SUB, "the model has %zu bytes (at most %zu)", len, MLOPS__MAX_MODEL_BYTES);
        goto out;
    }
    model = onnx__model_proto__unpack(&pb_allocator, len, bytes);
    if (model == NULL) {
        rc = mlops__error(MLOPS_EFORMAT, SUB, "not a valid ONNX model: the %zu bytes do not decode as a ModelProto",
                          len);
        goto out;
    }
    g = model->graph;
    if (g == NULL) {
        rc = mlops__error(MLOPS_EFORMAT, SUB, "not a valid ONNX model: it has no graph");
        goto out;
    }
    if (g->n_node > MLOPS__MAX_NODES) {
        rc = mlops__error(MLOPS_ELIMIT, SUB, "the graph has %zu nodes (at most %d)", g->n_node, MLOPS__MAX_NODES);
        goto out;
    }
    graph = mlops__calloc(1, sizeof *graph);
    if (graph == NULL) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory for the graph");
        goto out;
    }
    graph->opset = model_opset(model);
    if (graph->opset < MLOPS__MIN_OPSET || graph->opset > MLOPS__MAX_OPSET) {
        rc = graph->opset < 0 ? mlops__error(MLOPS_EFORMAT, SUB, "the model imports no ai.onnx opset")
                              : mlops__error(MLOPS_EUNSUPPORTED, SUB, "opset %lld is not supported (%d to %d are)",
                                             (long long)graph->opset, MLOPS__MIN_OPSET, MLOPS__MAX_OPSET);
        goto out;
    }
    if ((rc = table_init(&table, graph, g->n_initializer + g->n_input + g->n_node * 2)) != MLOPS_OK)
        goto out;
    if ((rc = add_initializers(graph, &table, g)) != MLOPS_OK || (rc = add_inputs(graph, &table, g, bindings,
                                                                                 n_bindings)) != MLOPS_OK ||
        (rc = add_nodes(graph, &table, g)) != MLOPS_OK || (rc = resolve_inputs(graph, &table, g)) != MLOPS_OK ||
        (rc = topological_order(graph)) != MLOPS_OK || (rc = add_outputs(graph, &table, g)) != MLOPS_OK)
        goto out;
    *out = graph;
    graph = NULL;
out:
    mlops__free(table.slots);
    mlops__graph_free(graph);
    if (model != NULL)
        onnx__model_proto__free_unpacked(model, &pb_allocator);
    return rc;
}
