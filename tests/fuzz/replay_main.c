/*
 * Replay driver: runs every file given on the command line, or every file of
 * every directory given, through a fuzz target's LLVMFuzzerTestOneInput().
 * Linked with each target so the suite replays the committed corpora without
 * libFuzzer; a crash or a sanitizer report fails the test. Files are replayed
 * in name order so a failure is reproducible.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *file = fopen(path, "rb");
    uint8_t *data;
    long size;
    if (!file) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    if (fseek(file, 0, SEEK_END) != 0 || (size = ftell(file)) < 0 || fseek(file, 0, SEEK_SET) != 0) {
        fclose(file);
        fprintf(stderr, "replay: cannot size %s\n", path);
        return -1;
    }
    /* An exact-size copy, so ASan sees any read past the input's end. */
    data = malloc(size ? (size_t)size : 1);
    if (!data || fread(data, 1, (size_t)size, file) != (size_t)size) {
        free(data);
        fclose(file);
        fprintf(stderr, "replay: cannot read %s\n", path);
        return -1;
    }
    fclose(file);
    LLVMFuzzerTestOneInput(data, (size_t)size);
    free(data);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static long replay_dir(const char *dir_path)
{
    DIR *dir = opendir(dir_path);
    struct dirent *entry;
    char **names = NULL;
    size_t count = 0, cap = 0, i;
    long replayed = 0;
    if (!dir) {
        fprintf(stderr, "replay: cannot open directory %s\n", dir_path);
        return -1;
    }
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.')
            continue;
        if (count == cap) {
            char **grown = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names);
            if (!grown)
                abort();
            names = grown;
        }
        names[count] = strdup(entry->d_name);
        if (!names[count])
            abort();
        count++;
    }
    closedir(dir);
    if (count)
        qsort(names, count, sizeof *names, by_name);
    for (i = 0; i < count; i++) {
        size_t len = strlen(dir_path) + strlen(names[i]) + 2;
        char *path = malloc(len);
        if (!path)
            abort();
        snprintf(path, len, "%s/%s", dir_path, names[i]);
        if (replay_file(path) == 0)
            replayed++;
        else
            replayed = -1 - (long)count;
        free(path);
        free(names[i]);
    }
    free(names);
    return replayed;
}

int main(int argc, char **argv)
{
    long total = 0;
    int i, failed = 0;
    for (i = 1; i < argc; i++) {
        struct stat st;
        long n;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s does not exist\n", argv[i]);
            return 1;
        }
        n = S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i]) == 0 ? 1 : -1;
        if (n < 0)
            failed = 1;
        else
            total += n;
    }
    if (failed)
        return 1;
    if (total == 0) {
        fprintf(stderr, "replay: no input files\n");
        return 1;
    }
    printf("replayed %ld inputs\n", total);
    return 0;
}
