/*
 * Export a trained net as an ONNX model (opset 13, default domain only),
 * encoded with the protobuf-c bindings generated from Debian's onnx.proto —
 * the same ones the importer decodes with.
 *
 * The graph takes the raw features ("features", batch x inputs) and gives
 * "output": the prediction, the probability of class 1 (Sigmoid) or the class
 * probabilities (Softmax). The standardisation either runs as two nodes in
 * front of the first layer, Sub(mean) then Mul(1 / std) — the default, so
 * that an int8 session quantises standardised values — or is folded into the
 * first layer: W'[o][j] = W[o][j] * s[j] and b'[o] = b[o] - sum_j W'[o][j] *
 * mean[j], computed in double. Folding is exact in real arithmetic, but an
 * input with a tiny spread gets a large weight, and the per-channel int8
 * scale of every output it feeds grows with it. Hidden layers are Gemm (transB = 1) then Relu, Tanh, or
 * GELU spelled 0.5 z * (1 + Erf(z / sqrt 2)) with Mul, Erf and Add. Nulls are
 * not imputed by the graph: the imputation means travel in the model's
 * metadata ("mlops.impute"), next to "mlops.features" and "mlops.task".
 */
#include <stdio.h>
#include <string.h>

#include "onnx.pb-c.h"
#include "train_int.h"

#define SUB MLOPS__TRAIN_SUB
#define NAME_MAX_BYTES 48
/* Nodes per hidden layer at most (Gemm + the five of GELU), plus the output's two. */
#define NODES_PER_LAYER 6

typedef struct onnx_builder {
    const mlops_net *net;
    Onnx__NodeProto *nodes;
    Onnx__NodeProto **node_ptrs;
    size_t node_count;
    char (*node_names)[NAME_MAX_BYTES];
    char (*out_names)[NAME_MAX_BYTES];        /* per node: its output's name */
    char *node_inputs[NODES_PER_LAYER * (MLOPS__TRAIN_MAX_LAYERS + 1)][3];
    char *node_outputs[NODES_PER_LAYER * (MLOPS__TRAIN_MAX_LAYERS + 1)][1];
    Onnx__AttributeProto trans_b;
    Onnx__AttributeProto *trans_b_list[1];
    Onnx__TensorProto *tensors;
    Onnx__TensorProto **tensor_ptrs;
    size_t tensor_count;
    char (*tensor_names)[NAME_MAX_BYTES];
    int64_t (*tensor_dims)[2];
    float *folded_w, *folded_b;               /* the first layer with the standardisation folded in */
    float constants[3];                       /* 0.5, 1/sqrt(2), 1 for GELU */
    int fold;                                 /* standardisation folded into the first layer */
} onnx_builder;

/* Add a float initializer named `name` of rank 0, 1 or 2 over borrowed `data`. */
static char *add_tensor(onnx_builder *b, const char *name, const float *data, size_t rank, int64_t d0, int64_t d1)
{
    Onnx__TensorProto *t = &b->tensors[b->tensor_count];
    char *stored = b->tensor_names[b->tensor_count];
    onnx__tensor_proto__init(t);
    snprintf(stored, NAME_MAX_BYTES, "%s", name);
    t->name = stored;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    b->tensor_dims[b->tensor_count][0] = d0;
    b->tensor_dims[b->tensor_count][1] = d1;
    t->n_dims = rank;
    t->dims = b->tensor_dims[b->tensor_count];
    t->n_float_data = (size_t)(rank == 0 ? 1 : rank == 1 ? d0 : d0 * d1);
    t->float_data = (float *)data;
    b->tensor_ptrs[b->tensor_count] = t;
    b->tensor_count++;
    return stored;
}

/* Add node `op` with one to three inputs (NULL ends them); returns the name of its output. */
static char *add_node(onnx_builder *b, const char *op, const char *name, const char *in0, const char *in1,
                      const char *in2, const char *out)
{
    size_t k = b->node_count;
    Onnx__NodeProto *n = &b->nodes[k];
    onnx__node_proto__init(n);
    snprintf(b->node_names[k], NAME_MAX_BYTES, "%s", name);
    n->name = b->node_names[k];
    n->op_type = (char *)op;
    b->node_inputs[k][0] = (char *)in0;
    b->node_inputs[k][1] = (char *)in1;
    b->node_inputs[k][2] = (char *)in2;
    n->n_input = in2 ? 3 : in1 ? 2 : 1;
    n->input = b->node_inputs[k];
    snprintf(b->out_names[k], NAME_MAX_BYTES, "%s", out);
    b->node_outputs[k][0] = b->out_names[k];
    n->n_output = 1;
    n->output = b->node_outputs[k];
    b->node_ptrs[k] = n;
    b->node_count++;
    return b->out_names[k];
}

/* Fold the standardisation into the first layer. */
static void fold_first_layer(onnx_builder *b)
{
    const mlops_net *net = b->net;
    const mlops__layer *layer = &net->layers[0];
    const float *w = net->params + layer->weight_offset, *bias = w + layer->out * layer->in;
    size_t o, j;
    for (o = 0; o < layer->out; o++) {
        double shift = bias[o];
        for (j = 0; j < layer->in; j++) {
            double scaled = (double)w[o * layer->in + j] * net->inv_scale[j];
            b->folded_w[o * layer->in + j] = (float)scaled;
            shift -= scaled * net->mean[j];
        }
        b->folded_b[o] = (float)shift;
    }
}

/* Sub(mean) and Mul(1 / std) in front of the first layer; returns the standardised input's name. */
static const char *standardize_nodes(onnx_builder *b, const char *x)
{
    const mlops_net *net = b->net;
    const char *mean = add_tensor(b, "input_mean", net->mean, 1, (int64_t)net->inputs, 0);
    const char *inv_scale = add_tensor(b, "input_inv_scale", net->inv_scale, 1, (int64_t)net->inputs, 0);
    const char *centred = add_node(b, "Sub", "standardize_center", x, mean, NULL, "features_centred");
    return add_node(b, "Mul", "standardize_scale", centred, inv_scale, NULL, "features_standardized");
}

static void build_graph(onnx_builder *b)
{
    const mlops_net *net = b->net;
    const char *x = "features", *half = NULL, *inv_sqrt2 = NULL, *one = NULL;
    char name[NAME_MAX_BYTES], out[NAME_MAX_BYTES];
    size_t l;

    onnx__attribute_proto__init(&b->trans_b);
    b->trans_b.name = "transB";
    b->trans_b.has_type = 1;
    b->trans_b.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    b->trans_b.has_i = 1;
    b->trans_b.i = 1;
    b->trans_b_list[0] = &b->trans_b;
    if (net->activation == MLOPS__ACT_GELU && net->layer_count > 1) {
        b->constants[0] = 0.5f;
        b->constants[1] = 0.70710678118654752f;
        b->constants[2] = 1.0f;
        half = add_tensor(b, "gelu_half", &b->constants[0], 0, 0, 0);
        inv_sqrt2 = add_tensor(b, "gelu_inv_sqrt2", &b->constants[1], 0, 0, 0);
        one = add_tensor(b, "gelu_one", &b->constants[2], 0, 0, 0);
    }
    if (!b->fold)
        x = standardize_nodes(b, x);
    for (l = 0; l < net->layer_count; l++) {
        const mlops__layer *layer = &net->layers[l];
        const float *w = l || !b->fold ? net->params + layer->weight_offset : b->folded_w;
        const float *bias = l || !b->fold ? w + layer->out * layer->in : b->folded_b;
        int last = l + 1 == net->layer_count;
        const char *wn, *bn, *z;
        snprintf(name, sizeof name, "layer%zu_weight", l);
        wn = add_tensor(b, name, w, 2, (int64_t)layer->out, (int64_t)layer->in);
        snprintf(name, sizeof name, "layer%zu_bias", l);
        bn = add_tensor(b, name, bias, 1, (int64_t)layer->out, 0);
        snprintf(name, sizeof name, "layer%zu_gemm", l);
        snprintf(out, sizeof out, last && net->task == MLOPS_TASK_REGRESSION ? "output" : "layer%zu_z", l);
        z = add_node(b, "Gemm", name, x, wn, bn, out);
        b->nodes[b->node_count - 1].n_attribute = 1;
        b->nodes[b->node_count - 1].attribute = b->trans_b_list;
        if (last) {
            if (net->task != MLOPS_TASK_REGRESSION)
                add_node(b, net->task == MLOPS_TASK_BINARY ? "Sigmoid" : "Softmax", "output_probability", z, NULL,
                         NULL, "output");
            break;
        }
        snprintf(out, sizeof out, "layer%zu_a", l);
        snprintf(name, sizeof name, "layer%zu_act", l);
        if (net->activation == MLOPS__ACT_RELU) {
            x = add_node(b, "Relu", name, z, NULL, NULL, out);
        } else if (net->activation == MLOPS__ACT_TANH) {
            x = add_node(b, "Tanh", name, z, NULL, NULL, out);
        } else {
            char part[NAME_MAX_BYTES], node[NAME_MAX_BYTES];
            const char *h, *t, *e, *u;
            snprintf(part, sizeof part, "layer%zu_half_z", l);
            snprintf(node, sizeof node, "layer%zu_gelu_half", l);
            h = add_node(b, "Mul", node, z, half, NULL, part);
            snprintf(part, sizeof part, "layer%zu_scaled_z", l);
            snprintf(node, sizeof node, "layer%zu_gelu_scale", l);
            t = add_node(b, "Mul", node, z, inv_sqrt2, NULL, part);
            snprintf(part, sizeof part, "layer%zu_erf", l);
            snprintf(node, sizeof node, "layer%zu_gelu_erf", l);
            e = add_node(b, "Erf", node, t, NULL, NULL, part);
            snprintf(part, sizeof part, "layer%zu_one_plus_erf", l);
            snprintf(node, sizeof node, "layer%zu_gelu_add", l);
            u = add_node(b, "Add", node, one, e, NULL, part);
            x = add_node(b, "Mul", name, h, u, NULL, out);
        }
    }
}

/* "[a,b,...]" of the feature names or the imputation means, as JSON. */
static char *metadata_json(const mlops_net *net, int names)
{
    mlops__buf buf;
    char number[64];
    size_t i;
    mlops__buf_init(&buf);
    mlops__buf_putc(&buf, '[');
    for (i = 0; i < (names ? net->feature_count : net->inputs); i++) {
        if (i)
            mlops__buf_putc(&buf, ',');
        if (names) {
            mlops__buf_json_string(&buf, net->features[i]);
        } else {
            mlops__format_double(number, sizeof number, net->impute[i]);
            mlops__buf_puts(&buf, number);
        }
    }
    mlops__buf_putc(&buf, ']');
    if (mlops__buf_status(&buf, SUB)) {
        mlops__buf_free(&buf);
        return NULL;
    }
    return mlops__buf_detach(&buf, NULL);
}

/* Options: {"standardization": "nodes" | "folded"}. */
static int parse_options(int *fold, const char *options_json)
{
    static const char *const keys[] = {"standardization", NULL};
    mlops__json *doc = NULL;
    const char *mode = NULL;
    int rc;
    *fold = 0;
    if (!options_json)
        return MLOPS_OK;
    if ((rc = mlops__json_parse(&doc, options_json, SUB, "export options")))
        return rc;
    if (!(rc = mlops__json_check_keys(doc, "$", SUB, keys)) &&
        !(rc = mlops__json_opt_string(&mode, doc, "standardization", "$", SUB)) && mode) {
        if (strcmp(mode, "folded") == 0)
            *fold = 1;
        else if (strcmp(mode, "nodes") != 0)
            rc = mlops__error(MLOPS_EFORMAT, SUB, "$.standardization: unknown value \"%s\"", mode);
    }
    mlops__json_free(doc);
    return rc;
}

int mlops_net_export_onnx(void **out, size_t *len_out, const mlops_net *net, const char *options_json)
{
    static const char *const tasks[] = {"", "regression", "binary", "multiclass"};
    Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
    Onnx__GraphProto graph = ONNX__GRAPH_PROTO__INIT;
    Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    Onnx__OperatorSetIdProto *opsets[1] = {&opset};
    Onnx__ValueInfoProto io[2] = {ONNX__VALUE_INFO_PROTO__INIT, ONNX__VALUE_INFO_PROTO__INIT};
    Onnx__ValueInfoProto *inputs[1] = {&io[0]}, *outputs[1] = {&io[1]};
    Onnx__TypeProto types[2] = {ONNX__TYPE_PROTO__INIT, ONNX__TYPE_PROTO__INIT};
    Onnx__TypeProto__Tensor tensor_types[2] = {ONNX__TYPE_PROTO__TENSOR__INIT, ONNX__TYPE_PROTO__TENSOR__INIT};
    Onnx__TensorShapeProto shapes[2] = {ONNX__TENSOR_SHAPE_PROTO__INIT, ONNX__TENSOR_SHAPE_PROTO__INIT};
    Onnx__TensorShapeProto__Dimension dims[2][2] = {
        {ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT, ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT},
        {ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT, ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT}};
    Onnx__TensorShapeProto__Dimension *dim_ptrs[2][2] = {{&dims[0][0], &dims[0][1]}, {&dims[1][0], &dims[1][1]}};
    Onnx__StringStringEntryProto props[3] = {ONNX__STRING_STRING_ENTRY_PROTO__INIT,
                                             ONNX__STRING_STRING_ENTRY_PROTO__INIT,
                                             ONNX__STRING_STRING_ENTRY_PROTO__INIT};
    Onnx__StringStringEntryProto *prop_ptrs[3] = {&props[0], &props[1], &props[2]};
    onnx_builder *b = NULL;
    char *feature_json = NULL, *impute_json = NULL;
    size_t max_nodes, max_tensors, first_weights, i, len;
    uint8_t *bytes;
    int fold, rc;

    if (out)
        *out = NULL;
    if (len_out)
        *len_out = 0;
    if (!out || !len_out || !net)
        return mlops__error_null(SUB, "mlops_net_export_onnx", !out ? "out" : !len_out ? "len_out" : "net");
    if ((rc = parse_options(&fold, options_json)))
        return rc;
    max_nodes = NODES_PER_LAYER * (net->layer_count + 1);
    max_tensors = 2 * net->layer_count + 5;
    first_weights = net->layers[0].out * net->layers[0].in;
    b = mlops__calloc(1, sizeof *b);
    if (b) {
        b->net = net;
        b->fold = fold;
        b->nodes = mlops__calloc(max_nodes, sizeof *b->nodes);
        b->node_ptrs = mlops__calloc(max_nodes, sizeof *b->node_ptrs);
        b->node_names = mlops__calloc(max_nodes, sizeof *b->node_names);
        b->out_names = mlops__calloc(max_nodes, sizeof *b->out_names);
        b->tensors = mlops__calloc(max_tensors, sizeof *b->tensors);
        b->tensor_ptrs = mlops__calloc(max_tensors, sizeof *b->tensor_ptrs);
        b->tensor_names = mlops__calloc(max_tensors, sizeof *b->tensor_names);
        b->tensor_dims = mlops__calloc(max_tensors, sizeof *b->tensor_dims);
        b->folded_w = mlops__malloc(first_weights * sizeof *b->folded_w);
        b->folded_b = mlops__malloc(net->layers[0].out * sizeof *b->folded_b);
    }
    feature_json = metadata_json(net, 1);
    impute_json = metadata_json(net, 0);
    if (!b || !b->nodes || !b->node_ptrs || !b->node_names || !b->out_names || !b->tensors || !b->tensor_ptrs ||
        !b->tensor_names || !b->tensor_dims || !b->folded_w || !b->folded_b || !feature_json || !impute_json) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory exporting the net as ONNX");
        goto out_free;
    }
    fold_first_layer(b);
    build_graph(b);

    for (i = 0; i < 2; i++) {
        dims[i][0].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
        dims[i][0].dim_param = "batch";
        dims[i][1].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        dims[i][1].dim_value = (int64_t)(i ? net->outputs : net->inputs);
        shapes[i].n_dim = 2;
        shapes[i].dim = dim_ptrs[i];
        tensor_types[i].has_elem_type = 1;
        tensor_types[i].elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
        tensor_types[i].shape = &shapes[i];
        types[i].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
        types[i].tensor_type = &tensor_types[i];
        io[i].name = i ? "output" : "features";
        io[i].type = &types[i];
    }
    graph.name = "mlops_net";
    graph.n_node = b->node_count;
    graph.node = b->node_ptrs;
    graph.n_initializer = b->tensor_count;
    graph.initializer = b->tensor_ptrs;
    graph.n_input = 1;
    graph.input = inputs;
    graph.n_output = 1;
    graph.output = outputs;
    opset.domain = "";
    opset.has_version = 1;
    opset.version = 13;
    props[0].key = "mlops.task";
    props[0].value = (char *)tasks[net->task];
    props[1].key = "mlops.features";
    props[1].value = feature_json;
    props[2].key = "mlops.impute";
    props[2].value = impute_json;
    model.has_ir_version = 1;
    model.ir_version = 7; /* the IR version of opset 13 */
    model.n_opset_import = 1;
    model.opset_import = opsets;
    model.producer_name = "libmlops";
    model.producer_version = (char *)mlops_version();
    model.graph = &graph;
    model.n_metadata_props = 3;
    model.metadata_props = prop_ptrs;

    len = onnx__model_proto__get_packed_size(&model);
    bytes = mlops__malloc(len ? len : 1);
    if (!bytes) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory for %zu bytes of ONNX", len);
        goto out_free;
    }
    onnx__model_proto__pack(&model, bytes);
    *out = bytes;
    *len_out = len;
out_free:
    if (b) {
        mlops__free(b->nodes);
        mlops__free(b->node_ptrs);
        mlops__free(b->node_names);
        mlops__free(b->out_names);
        mlops__free(b->tensors);
        mlops__free(b->tensor_ptrs);
        mlops__free(b->tensor_names);
        mlops__free(b->tensor_dims);
        mlops__free(b->folded_w);
        mlops__free(b->folded_b);
        mlops__free(b);
    }
    mlops__free(feature_json);
    mlops__free(impute_json);
    return rc;
}
