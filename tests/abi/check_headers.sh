#!/bin/sh
# Every public header must compile on its own, as C11 and as C++, pedantic.
set -eu
include=$1
cc=$2
cxx=$3
status=0
count=0
for header in $(cd "$include" && find . -name '*.h' | sed 's|^\./||' | sort); do
    count=$((count + 1))
    if ! printf '#include "%s"\nint main(void) { return 0; }\n' "$header" |
        "$cc" -std=c11 -Wall -Wextra -pedantic -Werror -I"$include" -x c -o /dev/null -; then
        echo "FAIL (C11): $header"
        status=1
    fi
    if ! printf '#include "%s"\nint main() { return 0; }\n' "$header" |
        "$cxx" -std=c++11 -Wall -Wextra -pedantic -Werror -I"$include" -x c++ -o /dev/null -; then
        echo "FAIL (C++): $header"
        status=1
    fi
done
[ $status -eq 0 ] && echo "$count public headers compile alone as C11 and C++11"
exit $status
