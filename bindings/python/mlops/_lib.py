"""Loading the shared library and declaring the C signatures.

The library is looked for, in order, at ``$MLOPS_LIBRARY``, in the build
trees of a source checkout, and through the system loader. Every function
that is called gets its argument and result types declared here, so a wrong
call fails in Python instead of corrupting memory.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import List, Set

SUPPORTED_MAJOR = 0
SUPPORTED_MIN_MINOR = 1

c_int = ctypes.c_int
c_int32 = ctypes.c_int32
c_uint32 = ctypes.c_uint32
c_int64 = ctypes.c_int64
c_size_t = ctypes.c_size_t
c_double = ctypes.c_double
c_float = ctypes.c_float
c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p
c_uint8_p = ctypes.POINTER(ctypes.c_uint8)
P = ctypes.POINTER


class ErrorDetail(ctypes.Structure):
    """Mirror of ``mlops_error``."""

    _fields_ = [
        ("code", c_int32),
        ("dependency_code", c_int32),
        ("subsystem", c_char_p),
        ("message", c_char_p),
    ]


def _candidates() -> List[str]:
    found: List[str] = []
    explicit = os.environ.get("MLOPS_LIBRARY")
    if explicit:
        found.append(explicit)
    root = Path(__file__).resolve().parents[3]
    for build in ("build", "build-sanitize", "build-bench"):
        found.append(str(root / build / "libmlops.so"))
    system = ctypes.util.find_library("mlops")
    if system:
        found.append(system)
    found.append("libmlops.so.0")
    return found


def _load() -> ctypes.CDLL:
    tried = []
    for candidate in _candidates():
        if os.path.sep in candidate and not os.path.exists(candidate):
            tried.append(f"{candidate} (absent)")
            continue
        try:
            return ctypes.CDLL(candidate)
        except OSError as exc:
            tried.append(f"{candidate} ({exc})")
    raise ImportError("libmlops shared library not found; set MLOPS_LIBRARY to its path. Tried: " + "; ".join(tried))


lib = _load()

#: Names of the C functions given a prototype below (the package binds exactly these).
DECLARED: Set[str] = set()


def _declare(name: str, restype, *argtypes) -> None:
    function = getattr(lib, name)
    function.restype = restype
    function.argtypes = list(argtypes)
    DECLARED.add(name)


class Allocator(ctypes.Structure):
    """Mirror of ``mlops_allocator`` (version 1)."""

    MALLOC = ctypes.CFUNCTYPE(c_void_p, c_size_t, c_void_p)
    REALLOC = ctypes.CFUNCTYPE(c_void_p, c_void_p, c_size_t, c_void_p)
    FREE = ctypes.CFUNCTYPE(None, c_void_p, c_void_p)
    _fields_ = [
        ("version", c_uint32),
        ("malloc_fn", MALLOC),
        ("realloc_fn", REALLOC),
        ("free_fn", FREE),
        ("payload", c_void_p),
    ]


#: ``mlops_train_progress_fn``: epoch, epochs, loss, validation score, payload.
TRAIN_PROGRESS = ctypes.CFUNCTYPE(None, c_int64, c_int64, c_double, c_double, c_void_p)


# common.h
_declare("mlops_error_last", P(ErrorDetail))
_declare("mlops_error_clear", None)
_declare("mlops_strerror", c_char_p, c_int)
_declare("mlops_version", c_char_p)
_declare("mlops_version_number", c_int32)
_declare("mlops_free", None, c_void_p)
_declare("mlops_allocator_set", c_int, P(Allocator))

# db.h
_declare("mlops_db_open", c_int, P(c_void_p), c_char_p, c_char_p)
_declare("mlops_db_close", None, c_void_p)
_declare("mlops_db_path", c_char_p, c_void_p)
_declare("mlops_db_schema_version", c_int, P(c_int32), c_void_p)
_declare("mlops_db_schema_version_supported", c_int32)
_declare("mlops_db_check", c_int, c_void_p)

# frame.h
_declare("mlops_frame_type_name", c_char_p, c_int32)
_declare("mlops_frame_new", c_int, P(c_void_p))
_declare("mlops_frame_free", None, c_void_p)
_declare("mlops_frame_clone", c_int, P(c_void_p), c_void_p)
_declare("mlops_frame_rows", c_size_t, c_void_p)
_declare("mlops_frame_columns", c_size_t, c_void_p)
_declare("mlops_frame_column_index", c_int, P(c_size_t), c_void_p, c_char_p)
_declare("mlops_frame_column_name", c_char_p, c_void_p, c_size_t)
_declare("mlops_frame_column_type", c_int, c_void_p, c_size_t)
_declare("mlops_frame_column_dim", c_uint32, c_void_p, c_size_t)
_declare("mlops_frame_add_column", c_int, c_void_p, c_char_p, c_int32, c_uint32)
_declare("mlops_frame_add_int64", c_int, c_void_p, c_char_p, c_void_p, c_void_p, c_size_t)
_declare("mlops_frame_add_float64", c_int, c_void_p, c_char_p, c_void_p, c_void_p, c_size_t)
_declare("mlops_frame_add_bool", c_int, c_void_p, c_char_p, c_void_p, c_void_p, c_size_t)
_declare("mlops_frame_add_string", c_int, c_void_p, c_char_p, P(c_char_p), c_size_t)
_declare("mlops_frame_add_f32vec", c_int, c_void_p, c_char_p, c_uint32, c_void_p, c_void_p, c_size_t)
_declare("mlops_frame_drop_column", c_int, c_void_p, c_size_t)
_declare("mlops_frame_append_rows", c_int, c_void_p, c_size_t)
_declare("mlops_frame_set_int64", c_int, c_void_p, c_size_t, c_size_t, c_int64)
_declare("mlops_frame_set_float64", c_int, c_void_p, c_size_t, c_size_t, c_double)
_declare("mlops_frame_set_bool", c_int, c_void_p, c_size_t, c_size_t, c_int32)
_declare("mlops_frame_set_string", c_int, c_void_p, c_size_t, c_size_t, c_char_p, c_size_t)
_declare("mlops_frame_set_f32vec", c_int, c_void_p, c_size_t, c_size_t, P(c_float), c_uint32)
_declare("mlops_frame_set_null", c_int, c_void_p, c_size_t, c_size_t)
_declare("mlops_frame_is_null", c_int, c_void_p, c_size_t, c_size_t)
_declare("mlops_frame_get_int64", c_int, P(c_int64), c_void_p, c_size_t, c_size_t)
_declare("mlops_frame_get_float64", c_int, P(c_double), c_void_p, c_size_t, c_size_t)
_declare("mlops_frame_get_bool", c_int, P(c_int32), c_void_p, c_size_t, c_size_t)
_declare("mlops_frame_get_string", c_int, P(c_char_p), P(c_size_t), c_void_p, c_size_t, c_size_t)
_declare("mlops_frame_get_f32vec", c_int, P(P(c_float)), c_void_p, c_size_t, c_size_t)
_declare("mlops_frame_column_int64", c_int, P(c_void_p), c_void_p, c_size_t)
_declare("mlops_frame_column_float64", c_int, P(c_void_p), c_void_p, c_size_t)
_declare("mlops_frame_column_bool", c_int, P(c_void_p), c_void_p, c_size_t)
_declare("mlops_frame_column_f32vec", c_int, P(c_void_p), c_void_p, c_size_t)
_declare("mlops_frame_column_nulls", c_int, P(c_void_p), c_void_p, c_size_t)
_declare("mlops_frame_select", c_int, P(c_void_p), c_void_p, P(c_char_p), c_size_t)
_declare("mlops_frame_take_rows", c_int, P(c_void_p), c_void_p, P(c_size_t), c_size_t)
_declare("mlops_frame_to_matrix", c_int, c_void_p, c_size_t, P(c_size_t), c_void_p, P(c_char_p), c_size_t,
         c_uint32)
_declare("mlops_frame_parse_csv", c_int, P(c_void_p), c_char_p, c_size_t, c_char_p)
_declare("mlops_frame_read_csv", c_int, P(c_void_p), c_char_p, c_char_p)
_declare("mlops_frame_format_csv", c_int, P(c_void_p), P(c_size_t), c_void_p, c_char_p)
_declare("mlops_frame_write_csv", c_int, c_void_p, c_char_p, c_char_p)

# features.h (the option and report structures are mirrored in features.py)
_declare("mlops_ingest_options_init", None, c_void_p)
_declare("mlops_read_options_init", None, c_void_p)
_declare("mlops_entity_define", c_int, c_void_p, c_char_p)
_declare("mlops_view_define", c_int, P(c_int32), c_void_p, c_char_p, c_uint32)
_declare("mlops_view_definition", c_int, P(c_void_p), c_void_p, c_char_p, c_int32)
_declare("mlops_features_ingest", c_int, c_void_p, c_void_p, c_char_p, c_void_p, c_void_p)
_declare("mlops_features_quarantine_list", c_int, P(c_void_p), c_void_p, c_char_p)
_declare("mlops_features_quarantine_retry", c_int, c_void_p, c_void_p, c_char_p, c_void_p)
_declare("mlops_features_online", c_int, P(c_void_p), c_void_p, c_char_p, c_void_p, P(c_char_p), c_size_t, c_void_p)
_declare("mlops_features_as_of", c_int, P(c_void_p), c_void_p, c_char_p, c_void_p, P(c_char_p), c_size_t, c_int64,
         c_void_p)
_declare("mlops_features_join", c_int, P(c_void_p), c_void_p, c_void_p, P(c_char_p), c_size_t, c_void_p)
_declare("mlops_online_reader_open", c_int, P(c_void_p), c_void_p, c_char_p, P(c_char_p), c_size_t, c_void_p)
_declare("mlops_online_reader_width", c_size_t, c_void_p)
_declare("mlops_online_reader_read", c_int, c_void_p, c_size_t, c_void_p, c_void_p, c_int64)
_declare("mlops_online_reader_free", None, c_void_p)
_declare("mlops_features_forget", c_int, P(c_int64), c_void_p, c_char_p, c_void_p)
_declare("mlops_features_stats", c_int, P(c_void_p), c_void_p, c_char_p)

# drift.h (the result and column summary structures are mirrored in drift.py)
_D = P(c_double)
_declare("mlops_stat_ks_2samp", c_int, c_void_p, _D, c_size_t, _D, c_size_t, c_int32)
_declare("mlops_stat_wasserstein", c_int, c_void_p, _D, c_size_t, _D, c_size_t)
_declare("mlops_stat_wasserstein_norm", c_int, c_void_p, _D, c_size_t, _D, c_size_t)
_declare("mlops_stat_energy", c_int, c_void_p, _D, c_size_t, _D, c_size_t)
_declare("mlops_stat_cvm_2samp", c_int, c_void_p, _D, c_size_t, _D, c_size_t, c_int32)
_declare("mlops_stat_anderson_ksamp", c_int, c_void_p, P(_D), P(c_size_t), c_size_t)
_declare("mlops_stat_psi", c_int, c_void_p, _D, c_size_t, _D, c_size_t, _D, c_size_t, c_uint32, c_int32, c_double)
_declare("mlops_stat_psi_hist", c_int, c_void_p, _D, _D, c_size_t, c_double)
_declare("mlops_stat_jensenshannon", c_int, c_void_p, _D, _D, c_size_t, c_double)
_declare("mlops_stat_kl", c_int, c_void_p, _D, _D, c_size_t, c_double)
_declare("mlops_stat_chisquare", c_int, c_void_p, _D, _D, c_size_t)
_declare("mlops_stat_chi2_contingency", c_int, c_void_p, _D, _D, c_size_t, c_int32)
_declare("mlops_profile_new", c_int, P(c_void_p), c_char_p)
_declare("mlops_profile_new_for_frame", c_int, P(c_void_p), c_void_p, c_char_p)
_declare("mlops_profile_new_like", c_int, P(c_void_p), c_void_p)
_declare("mlops_profile_free", None, c_void_p)
_declare("mlops_profile_columns", c_size_t, c_void_p)
_declare("mlops_profile_column_name", c_char_p, c_void_p, c_size_t)
_declare("mlops_profile_column_index", c_int, P(c_size_t), c_void_p, c_char_p)
_declare("mlops_profile_update_float64", c_int, c_void_p, c_size_t, _D, c_void_p, c_size_t)
_declare("mlops_profile_update_strings", c_int, c_void_p, c_size_t, P(c_char_p), c_size_t)
_declare("mlops_profile_update_matrix", c_int, c_void_p, c_void_p, c_size_t, c_size_t)
_declare("mlops_profile_update_frame", c_int, c_void_p, c_void_p)
_declare("mlops_profile_merge", c_int, c_void_p, c_void_p)
_declare("mlops_profile_column_stats", c_int, c_void_p, c_void_p, c_size_t)
_declare("mlops_profile_quantile", c_int, _D, c_void_p, c_size_t, c_double)
_declare("mlops_profile_rank", c_int, _D, c_void_p, c_size_t, c_double)
_declare("mlops_profile_histogram", c_int, P(ctypes.c_uint64), c_size_t, P(c_size_t), c_void_p, c_size_t)
_declare("mlops_profile_category_count", c_int, P(ctypes.c_uint64), c_void_p, c_size_t, c_char_p)
_declare("mlops_profile_describe", c_int, P(c_void_p), c_void_p)
_declare("mlops_profile_serialize", c_int, P(c_void_p), P(c_size_t), c_void_p)
_declare("mlops_profile_deserialize", c_int, P(c_void_p), c_char_p, c_size_t)
_declare("mlops_drift_report_frames", c_int, P(c_void_p), c_void_p, c_void_p, c_char_p)
_declare("mlops_drift_report_profiles", c_int, P(c_void_p), c_void_p, c_void_p, c_char_p)
_declare("mlops_drift_window_put", c_int, c_void_p, c_char_p, c_int64, c_int64, c_void_p)
_declare("mlops_drift_window_get", c_int, P(c_void_p), c_void_p, c_char_p, c_int64)
_declare("mlops_drift_window_list", c_int, P(c_void_p), c_void_p, c_char_p, c_int64, c_int64)
_declare("mlops_drift_trend", c_int, P(c_void_p), c_void_p, c_char_p, c_void_p, c_int64, c_int64, c_char_p)

# registry.h
_declare("mlops_model_create", c_int, c_void_p, c_char_p, c_char_p, c_char_p)
_declare("mlops_model_list", c_int, P(c_void_p), c_void_p)
_declare("mlops_model_show", c_int, P(c_void_p), c_void_p, c_char_p)
_declare("mlops_version_register", c_int, P(c_int64), c_void_p, c_char_p, c_char_p, c_size_t, c_char_p)
_declare("mlops_version_writer_begin", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p)
_declare("mlops_version_writer_write", c_int, c_void_p, c_char_p, c_size_t)
_declare("mlops_version_writer_commit", c_int, P(c_int64), c_void_p)
_declare("mlops_version_writer_free", None, c_void_p)
_declare("mlops_version_show", c_int, P(c_void_p), c_void_p, c_char_p, c_int64)
_declare("mlops_version_list", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p)
_declare("mlops_version_delete", c_int, c_void_p, c_char_p, c_int64)
_declare("mlops_version_signature_fill", c_int, c_void_p, c_char_p, c_int64, c_char_p)
_declare("mlops_version_profile_set", c_int, c_void_p, c_char_p, c_int64, c_char_p, c_size_t)
_declare("mlops_version_profile_get", c_int, P(c_void_p), P(c_size_t), c_void_p, c_char_p, c_int64)
_declare("mlops_version_metric_log", c_int, c_void_p, c_char_p, c_int64, c_char_p, c_double, c_double, c_double,
         c_char_p, c_int64)
_declare("mlops_version_approve", c_int, c_void_p, c_char_p, c_int64, c_char_p)
_declare("mlops_artifact_read", c_int, P(c_void_p), P(c_size_t), c_void_p, c_char_p, c_int64)
_declare("mlops_artifact_gc", c_int, P(c_int64), c_void_p)
_declare("mlops_artifact_reader_open", c_int, P(c_void_p), c_void_p, c_char_p, c_int64)
_declare("mlops_artifact_reader_size", c_int64, c_void_p)
_declare("mlops_artifact_reader_read", c_int, P(c_size_t), c_void_p, c_void_p, c_size_t)
_declare("mlops_artifact_reader_free", None, c_void_p)
_declare("mlops_registry_watch_open", c_int, P(c_void_p), c_char_p, c_int64, c_void_p, c_void_p)
_declare("mlops_registry_watch_poll", c_int, P(c_int64), c_void_p)
_declare("mlops_registry_watch_start", c_int, c_void_p, c_int32)
_declare("mlops_registry_watch_close", None, c_void_p)
_declare("mlops_alias_set", c_int, c_void_p, c_char_p, c_char_p, c_int64)
_declare("mlops_alias_delete", c_int, c_void_p, c_char_p, c_char_p)
_declare("mlops_alias_rollback", c_int, P(c_int64), c_void_p, c_char_p, c_char_p)
_declare("mlops_alias_history", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p)
_declare("mlops_alias_at", c_int, P(c_int64), c_void_p, c_char_p, c_char_p, c_int64)
_declare("mlops_model_resolve", c_int, P(c_int64), c_void_p, c_char_p)
_declare("mlops_gate_set", c_int, c_void_p, c_char_p, c_char_p, c_char_p)
_declare("mlops_gate_get", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p)
_declare("mlops_run_start", c_int, P(c_int64), c_void_p, c_char_p, c_char_p, c_char_p, c_char_p)
_declare("mlops_run_log_metric", c_int, c_void_p, c_int64, c_char_p, c_double, c_int64, c_int64)
_declare("mlops_run_set_tag", c_int, c_void_p, c_int64, c_char_p, c_char_p)
_declare("mlops_run_end", c_int, c_void_p, c_int64, c_char_p)
_declare("mlops_run_show", c_int, P(c_void_p), c_void_p, c_int64)
_declare("mlops_run_list", c_int, P(c_void_p), c_void_p, c_char_p)
_declare("mlops_lineage_of", c_int, P(c_void_p), c_void_p, c_char_p, c_int64)
_declare("mlops_lineage_users", c_int, P(c_void_p), c_void_p, c_char_p, c_int64)
_declare("mlops_audit_list", c_int, P(c_void_p), c_void_p, c_int64, c_int64)
_declare("mlops_audit_verify", c_int, P(c_int64), c_void_p)
_declare("mlops_bundle_keygen", c_int, c_char_p, c_char_p)
_declare("mlops_bundle_export", c_int, c_void_p, c_char_p, c_int64, c_char_p, c_char_p)
_declare("mlops_bundle_import", c_int, P(c_int64), P(c_void_p), c_void_p, c_char_p)
_declare("mlops_bundle_trust_key", c_int, c_void_p, c_char_p, c_char_p)

# infer.h
_declare("mlops_session_open", c_int, P(c_void_p), c_char_p, c_size_t, c_char_p, c_void_p)
_declare("mlops_session_open_file", c_int, P(c_void_p), c_char_p, c_char_p, c_void_p)
_declare("mlops_session_open_registry", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p, c_void_p)
_declare("mlops_session_free", None, c_void_p)
_declare("mlops_session_run", c_int, c_void_p, c_void_p, c_size_t, c_void_p, c_size_t)
_declare("mlops_session_input_count", c_size_t, c_void_p)
_declare("mlops_session_output_count", c_size_t, c_void_p)
_declare("mlops_session_input_name", c_char_p, c_void_p, c_size_t)
_declare("mlops_session_output_name", c_char_p, c_void_p, c_size_t)
_declare("mlops_session_input_shape", c_int, P(c_int64), c_size_t, P(c_size_t), c_void_p, c_size_t)
_declare("mlops_session_output_shape", c_int, P(c_int64), c_size_t, P(c_size_t), c_void_p, c_size_t)
_declare("mlops_session_input_width", c_size_t, c_void_p)
_declare("mlops_session_output_width", c_size_t, c_void_p)
_declare("mlops_session_feature_name", c_char_p, c_void_p, c_size_t)
_declare("mlops_session_kernel", c_char_p, c_void_p)
_declare("mlops_session_plan", c_int, P(c_void_p), c_void_p)
_declare("mlops_session_signature", c_int, P(c_void_p), c_void_p)
_declare("mlops_session_accuracy", c_int, P(c_void_p), c_void_p, c_void_p)
_declare("mlops_gemm_options_init", None, c_void_p)
_declare("mlops_gemm_pack", c_int, P(c_void_p), c_void_p, c_size_t, c_size_t, c_size_t, c_void_p, c_void_p)
_declare("mlops_gemm_free", None, c_void_p)
_declare("mlops_gemm_run", c_int, c_void_p, c_void_p, c_size_t, c_size_t, c_void_p, c_size_t)
_declare("mlops_gemm_scratch_bytes", c_size_t, c_void_p, c_size_t)
_declare("mlops_gemm_run_scratch", c_int, c_void_p, c_void_p, c_size_t, c_size_t, c_void_p, c_size_t, c_void_p,
         c_size_t)
_declare("mlops_gemm_kernel", c_char_p, c_void_p)
_declare("mlops_gemm_isa_default", c_int, P(c_char_p))

# train.h
_declare("mlops_net_train", c_int, P(c_void_p), c_void_p, c_char_p)
_declare("mlops_net_train_progress", c_int, P(c_void_p), c_void_p, c_char_p, TRAIN_PROGRESS, c_void_p)
_declare("mlops_net_free", None, c_void_p)
_declare("mlops_net_task", c_int32, c_void_p)
_declare("mlops_net_inputs", c_size_t, c_void_p)
_declare("mlops_net_outputs", c_size_t, c_void_p)
_declare("mlops_net_feature_name", c_char_p, c_void_p, c_size_t)
_declare("mlops_net_parameters", c_int, c_void_p, c_size_t, P(c_size_t), c_void_p)
_declare("mlops_net_predict", c_int, c_void_p, c_size_t, c_void_p, c_void_p, c_size_t)
_declare("mlops_net_predict_frame", c_int, c_void_p, c_size_t, c_void_p, c_void_p)
_declare("mlops_net_evaluate", c_int, P(c_void_p), c_void_p, c_void_p, c_char_p)
_declare("mlops_net_report_json", c_int, P(c_void_p), c_void_p)
_declare("mlops_net_export_onnx", c_int, P(c_void_p), P(c_size_t), c_void_p, c_char_p)
_declare("mlops_net_train_register", c_int, P(c_int64), P(c_void_p), c_void_p, c_char_p, c_void_p, c_char_p,
         c_char_p)
_declare("mlops_net_test_metrics", c_int, P(c_void_p), c_void_p)
_declare("mlops_metrics_compute", c_int, P(c_void_p), c_int32, c_void_p, c_void_p, c_size_t, c_size_t, c_char_p)
_declare("mlops_metrics_free", None, c_void_p)
_declare("mlops_metrics_count", c_size_t, c_void_p)
_declare("mlops_metrics_name", c_char_p, c_void_p, c_size_t)
_declare("mlops_metrics_get", c_int, P(c_double), P(c_double), P(c_double), c_void_p, c_char_p)
_declare("mlops_metrics_confusion", c_int, P(P(c_int64)), P(c_size_t), c_void_p)
_declare("mlops_metrics_json", c_int, P(c_void_p), c_void_p)

# serve.h
_declare("mlops_router_open", c_int, P(c_void_p), c_void_p, c_char_p, c_char_p)
_declare("mlops_router_close", None, c_void_p)
_declare("mlops_router_run", c_int, P(c_int64), c_void_p, c_char_p, c_void_p, c_size_t, c_void_p, c_size_t)
_declare("mlops_router_assign", c_int, P(c_int32), c_void_p, c_char_p)
_declare("mlops_router_reload", c_int, P(c_int32), c_void_p)
_declare("mlops_router_version", c_int64, c_void_p, c_int32)
_declare("mlops_router_metrics_prometheus", c_int, P(c_void_p), c_void_p)
_declare("mlops_router_metrics_json", c_int, P(c_void_p), c_void_p)
_declare("mlops_router_drift_flush", c_int, c_void_p)
_declare("mlops_router_on_drift", c_int, c_void_p, c_void_p, c_void_p)
_declare("mlops_router_outcome", c_int, c_void_p, c_char_p, c_double)
_declare("mlops_router_quality_log", c_int, P(c_int64), c_void_p, c_char_p)
_declare("mlops_router_metrics_log", c_int, P(c_int64), c_void_p)
_declare("mlops_serve_stats_json", c_int, P(c_void_p), c_void_p, c_char_p)

# report.h
_declare("mlops_report_json", c_int, P(c_void_p), c_void_p, c_char_p)
_declare("mlops_report_html", c_int, P(c_void_p), c_char_p)

# explain.h
_declare("mlops_explainer_open", c_int, P(c_void_p), c_void_p, c_char_p, c_void_p, c_size_t)
_declare("mlops_explainer_free", None, c_void_p)
_declare("mlops_explainer_method", c_int, c_void_p)
_declare("mlops_explainer_features", c_size_t, c_void_p)
_declare("mlops_explainer_feature_name", c_char_p, c_void_p, c_size_t)
_declare("mlops_explainer_baseline_output", c_float, c_void_p)
_declare("mlops_explain_rows", c_int, c_void_p, c_void_p, c_void_p, c_void_p, c_size_t, c_void_p, c_void_p, c_size_t)
_declare("mlops_explain_rows_json", c_int, P(c_void_p), c_void_p, c_void_p, c_size_t)
_declare("mlops_explain_gradient", c_int, c_void_p, c_size_t, c_void_p, c_void_p, c_size_t)
_declare("mlops_explain_global", c_int, P(c_void_p), c_void_p, c_void_p, c_size_t)
_declare("mlops_explain_permutation", c_int, P(c_void_p), c_void_p, c_void_p, c_void_p, c_size_t, c_char_p)


def check_version() -> None:
    number = lib.mlops_version_number()
    major, minor = number // 10000, number // 100 % 100
    if major != SUPPORTED_MAJOR or minor < SUPPORTED_MIN_MINOR:
        raise ImportError(
            f"libmlops {lib.mlops_version().decode()} is not supported by these bindings "
            f"(need {SUPPORTED_MAJOR}.{SUPPORTED_MIN_MINOR} or a later {SUPPORTED_MAJOR}.x)")


check_version()
