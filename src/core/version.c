/*
 * Runtime version.
 */
#include "core_int.h"

const char *mlops_version(void)
{
    return MLOPS_VERSION_STRING;
}

int32_t mlops_version_number(void)
{
    return MLOPS_VERSION_NUMBER;
}
