/**
 * @file
 * libmlops: status codes, error detail, version, memory.
 *
 * Every fallible function returns an int: MLOPS_OK (0), a non-error status
 * above zero, or a negative error code. The detail of the last failure on the
 * calling thread is read with mlops_error_last(). Codes are pinned forever.
 */
#ifndef MLOPS_COMMON_H
#define MLOPS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  if defined(MLOPS_BUILDING)
#    define MLOPS_API __declspec(dllexport)
#  else
#    define MLOPS_API
#  endif
#elif defined(__GNUC__)
#  define MLOPS_API __attribute__((visibility("default")))
#else
#  define MLOPS_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define MLOPS_VERSION_MAJOR 0           /**< major version of these headers */
#define MLOPS_VERSION_MINOR 1           /**< minor version of these headers */
#define MLOPS_VERSION_PATCH 0           /**< patch version of these headers */
#define MLOPS_VERSION_STRING "0.1.0"    /**< "major.minor.patch" of these headers */
/** The version as one number: major * 10000 + minor * 100 + patch. */
#define MLOPS_VERSION_NUMBER \
    (MLOPS_VERSION_MAJOR * 10000 + MLOPS_VERSION_MINOR * 100 + MLOPS_VERSION_PATCH)

/* Status codes. Pinned: a retired code keeps its slot. */
#define MLOPS_OK            0   /**< success */
#define MLOPS_DONE          1   /**< an iteration has no more items */
#define MLOPS_NULL          2   /**< the requested cell holds no value */
#define MLOPS_EINVAL      (-1)  /**< an argument is invalid (NULL, out of range, wrong type) */
#define MLOPS_ENOTFOUND   (-2)  /**< the named object does not exist */
#define MLOPS_EEXISTS     (-3)  /**< the object already exists */
#define MLOPS_ECONFLICT   (-4)  /**< the change conflicts with the stored state */
#define MLOPS_ECORRUPT    (-5)  /**< stored or supplied bytes are damaged */
#define MLOPS_EIO         (-6)  /**< reading or writing a file failed */
#define MLOPS_ENOMEM      (-7)  /**< an allocation failed */
#define MLOPS_EUNSUPPORTED (-8) /**< valid but not supported by this build or machine */
#define MLOPS_EPOLICY     (-9)  /**< refused by a policy (gate, contract, trust) */
#define MLOPS_EBUSY      (-10)  /**< the database stayed locked past the busy timeout */
#define MLOPS_ESCHEMA    (-11)  /**< the database is not an mlops database of a known schema */
#define MLOPS_EBUFSIZE   (-12)  /**< a caller buffer is too small; the size needed was reported */
#define MLOPS_EFORMAT    (-13)  /**< malformed input document (CSV, JSON, ONNX, bundle) */
#define MLOPS_ELIMIT     (-14)  /**< input exceeds a documented resource limit */
#define MLOPS_ESTATE     (-15)  /**< the object is not in a state that allows the call */
#define MLOPS_EINTERNAL  (-16)  /**< an internal invariant failed; please report */

/** Detail of the last failure on the calling thread. */
typedef struct mlops_error {
    int32_t code;             /**< the MLOPS_E* status */
    int32_t dependency_code;  /**< SQLite extended code, zstd error, errno, or 0 */
    const char *subsystem;    /**< "core", "store", "frame", ... */
    const char *message;      /**< what failed and where, never NULL */
} mlops_error;

/** Last failure on this thread; borrowed until the next failing call on this thread. @thread any */
MLOPS_API const mlops_error *mlops_error_last(void);
/** Reset this thread's error detail to "no error". @thread any */
MLOPS_API void mlops_error_clear(void);
/** Static name and description of a status code, e.g. "MLOPS_ENOTFOUND: not found". @thread any */
MLOPS_API const char *mlops_strerror(int code);

/** Runtime library version string, e.g. "0.1.0"; static. @thread any */
MLOPS_API const char *mlops_version(void);
/** Runtime version as MLOPS_VERSION_NUMBER. @thread any */
MLOPS_API int32_t mlops_version_number(void);

/** Release memory the library handed out (strings, byte buffers); NULL is a no-op. @thread any */
MLOPS_API void mlops_free(void *ptr);

#define MLOPS_ALLOCATOR_VERSION 1 /**< the mlops_allocator layout these headers describe */
/** Allocation hooks for the library's own memory; dependencies keep theirs. */
typedef struct mlops_allocator {
    uint32_t version;   /**< MLOPS_ALLOCATOR_VERSION */
    void *(*malloc_fn)(size_t size, void *payload);            /**< as malloc() */
    void *(*realloc_fn)(void *ptr, size_t size, void *payload); /**< as realloc() */
    void (*free_fn)(void *ptr, void *payload);                  /**< as free() */
    void *payload;                                              /**< passed to each hook */
} mlops_allocator;

/** Route the library's allocations through `allocator` (copied; NULL restores malloc). @thread init */
MLOPS_API int mlops_allocator_set(const mlops_allocator *allocator);

#ifdef __cplusplus
}
#endif
#endif /* MLOPS_COMMON_H */
