/* A program built outside the tree against an installed libmlops. */
#include <mlops.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    mlops_db *db = NULL;
    if (argc < 2 || mlops_db_open(&db, argv[1], NULL) != MLOPS_OK) {
        fprintf(stderr, "consumer: %s\n", mlops_error_last()->message);
        return 1;
    }
    mlops_db_close(db);
    if (strcmp(mlops_version(), MLOPS_VERSION_STRING) != 0)
        return 1;
    printf("consumer linked libmlops %s\n", mlops_version());
    return 0;
}
