// A minimal check macro for the C++ tests (no test framework needed): EXPECT records a failure with its
// location and goes on; main() returns `failures != 0`.
#pragma once
#include <cstdio>

static int failures = 0;
#define EXPECT(cond)                                                \
  do {                                                              \
    if (!(cond)) {                                                  \
      std::printf("FAILED %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                   \
    }                                                               \
  } while (0)
