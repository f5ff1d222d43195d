// Result of a kernel call. Kernels validate the values they read in the same pass that uses them,
// so a bad input is reported with the argument's name and the element's flat index instead of
// leaking NaN into the outputs. Kernels never throw for bad data; the bindings turn a Status into a
// JavaScript RangeError.
#pragma once
#include <cstddef>
#include <string>
#include <utility>

namespace dyco {

struct Status {
  bool ok = true;
  const char* argument = nullptr;  // the input's name as the caller knows it ("p", "attn", "lengths", ...)
  std::size_t index = 0;           // flat element index into that input
  double value = 0.0;              // the offending value
  std::string expected;            // what a valid element is, e.g. "a finite, non-negative number"

  static Status Ok() { return Status{}; }
  static Status Invalid(const char* argument, std::size_t index, double value, std::string expected) {
    return Status{false, argument, index, value, std::move(expected)};
  }
};

// Shared wording, so every kernel describes the same rule the same way.
inline constexpr const char* kExpectProbability = "a finite, non-negative number";
inline constexpr const char* kExpectFinite = "a finite number";
inline constexpr const char* kExpectMask = "0 or 1";

}  // namespace dyco
