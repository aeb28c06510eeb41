/*
 * Reading a whole file into memory, with a size limit.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core_int.h"

int mlops__read_file(char **out, size_t *len_out, const char *path, size_t max_len, const char *subsystem,
                     const char *what)
{
    FILE *file;
    char *data = NULL;
    long size;
    int rc = MLOPS_OK;

    *out = NULL;
    *len_out = 0;
    file = fopen(path, "rb");
    if (!file)
        return mlops__error_dep(errno == ENOENT ? MLOPS_ENOTFOUND : MLOPS_EIO, subsystem, errno,
                                "cannot open %s \"%s\": %s", what, path, strerror(errno));
    if (fseek(file, 0, SEEK_END) != 0 || (size = ftell(file)) < 0 || fseek(file, 0, SEEK_SET) != 0) {
        rc = mlops__error_dep(MLOPS_EIO, subsystem, errno, "cannot read %s \"%s\": %s", what, path, strerror(errno));
        goto out_close;
    }
    if ((unsigned long)size > max_len) {
        rc = mlops__error(MLOPS_ELIMIT, subsystem, "%s \"%s\" has %ld bytes (at most %zu)", what, path, size, max_len);
        goto out_close;
    }
    data = mlops__malloc((size_t)size + 1);
    if (!data) {
        rc = mlops__error(MLOPS_ENOMEM, subsystem, "out of memory reading %s \"%s\" (%ld bytes)", what, path, size);
        goto out_close;
    }
    if (fread(data, 1, (size_t)size, file) != (size_t)size) {
        rc = mlops__error_dep(MLOPS_EIO, subsystem, errno, "cannot read %s \"%s\"", what, path);
        mlops__free(data);
        goto out_close;
    }
    data[size] = '\0';
    *out = data;
    *len_out = (size_t)size;
out_close:
    fclose(file);
    return rc;
}
