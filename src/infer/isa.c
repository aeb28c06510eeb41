/*
 * Run-time choice of the GEMM kernel: CPUID and XCR0 say what the CPU and the
 * OS support, the AMX tile-data permission is requested from Linux once per
 * process, and MLOPS_ISA may force one kernel.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "infer_int.h"

static const char *const isa_names[] = {"ref", "avx2", "avx512vnni", "amx"};

/* Linux: arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA). */
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

typedef struct cpu_features {
    int avx2;
    int avx512vnni;
    int amx;
} cpu_features;

static cpu_features features;
static int amx_granted;
static pthread_once_t detect_once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__) || defined(__i386__)
static uint64_t read_xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void detect(void)
{
    unsigned a, b, c, d, max_leaf;
    uint64_t xcr0 = 0;
    int fma, osxsave;
    max_leaf = __get_cpuid_max(0, NULL);
    if (max_leaf < 7)
        return;
    __cpuid_count(1, 0, a, b, c, d);
    fma = (int)((c >> 12) & 1);
    osxsave = (int)((c >> 27) & 1);
    if (osxsave)
        xcr0 = read_xcr0();
    __cpuid_count(7, 0, a, b, c, d);
    /* YMM state (bits 1, 2) and, for AVX-512, opmask and ZMM state (bits 5, 6, 7). */
    features.avx2 = ((b >> 5) & 1) && fma && (xcr0 & 0x6) == 0x6;
    features.avx512vnni = features.avx2 && ((b >> 16) & 1) && ((b >> 30) & 1) && ((b >> 31) & 1) &&
                          ((c >> 11) & 1) && (xcr0 & 0xe6) == 0xe6;
    /* AMX tiles and INT8; the kernel also uses AVX-512 VNNI for row tails. */
    features.amx = features.avx512vnni && ((d >> 24) & 1) && ((d >> 25) & 1);
    if (features.amx)
        amx_granted = syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}
#else
static void detect(void)
{
}
#endif

int mlops__amx_permitted(void)
{
    pthread_once(&detect_once, detect);
    return features.amx && amx_granted;
}

int mlops__isa_available(mlops__isa isa)
{
    pthread_once(&detect_once, detect);
    switch (isa) {
    case MLOPS__ISA_REF:
        return 1;
    case MLOPS__ISA_AVX2:
        return features.avx2;
    case MLOPS__ISA_AVX512VNNI:
        return features.avx512vnni;
    case MLOPS__ISA_AMX:
        return features.amx && amx_granted;
    }
    return 0;
}

const char *mlops__isa_name(mlops__isa isa)
{
    if ((unsigned)isa < sizeof isa_names / sizeof isa_names[0])
        return isa_names[isa];
    return "unknown";
}

/* Why `isa` cannot run here, for the error message. */
static const char *unavailable_reason(mlops__isa isa)
{
    if (isa == MLOPS__ISA_AMX && features.amx)
        return "the kernel refused the AMX tile-data permission (arch_prctl)";
    return "this CPU or OS does not support it";
}

int mlops__isa_parse(mlops__isa *out, const char *name, const char *origin)
{
    size_t i;
    for (i = 0; i < sizeof isa_names / sizeof isa_names[0]; i++) {
        if (strcmp(name, isa_names[i]) == 0) {
            if (!mlops__isa_available((mlops__isa)i))
                return mlops__error(MLOPS_EUNSUPPORTED, "infer", "%s: kernel \"%s\" is not available: %s",
                                    origin, name, unavailable_reason((mlops__isa)i));
            *out = (mlops__isa)i;
            return MLOPS_OK;
        }
    }
    return mlops__error(MLOPS_EINVAL, "infer", "%s: unknown kernel \"%s\" (expected ref, avx2, avx512vnni or amx)",
                        origin, name);
}

int mlops__isa_select(mlops__isa *out)
{
    const char *forced = getenv("MLOPS_ISA");
    int isa;
    if (forced != NULL && forced[0] != '\0')
        return mlops__isa_parse(out, forced, "MLOPS_ISA");
    for (isa = MLOPS__ISA_AMX; isa > MLOPS__ISA_REF; isa--)
        if (mlops__isa_available((mlops__isa)isa))
            break;
    *out = (mlops__isa)isa;
    return MLOPS_OK;
}
