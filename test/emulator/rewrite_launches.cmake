# Copies one CUDA source (IN) to OUT with every kernel launch rewritten into C++ that the emulator
# (emulated_cuda.hpp) runs: `kernel<<<grid, block, shared, stream>>>(args)` becomes
# `kernel * ::dyco::emulator::Launch(grid, block, shared, stream) | ::dyco::emulator::Args(args)`.
# (`*` binds tighter than `|`, so the kernel meets its configuration before its arguments.) The
# sources keep each launch's `<<<` and `>>>(` on one line; nothing else in them contains either.
# Run as: cmake -DIN=<file> -DOUT=<file> -P rewrite_launches.cmake
file(READ "${IN}" text)
string(REPLACE "<<<" " * ::dyco::emulator::Launch(" text "${text}")
string(REPLACE ">>>(" ") | ::dyco::emulator::Args(" text "${text}")
if(text MATCHES ">>>")
  message(FATAL_ERROR "${IN}: a '>>>' that is not a launch's '>>>(' (the emulator's rewrite cannot handle it)")
endif()
file(WRITE "${OUT}.tmp" "#line 1 \"${IN}\"\n${text}")
file(RENAME "${OUT}.tmp" "${OUT}")
