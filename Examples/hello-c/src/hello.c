#include <stdio.h>

int main(void) {
    printf("Hello from a binary built inside an Airlock sandbox.\n");
    return 0;
}
