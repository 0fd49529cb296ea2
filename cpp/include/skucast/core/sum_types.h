// Sum types shared by the CPU and GPU aggregation kernels: floats accumulate in double and keep
// their dtype on output; integers accumulate and come out as int64.
#pragma once
#include <cstdint>
#include <type_traits>

namespace skucast {

template <class T>
using SumAcc = std::conditional_t<std::is_integral_v<T>, int64_t, double>;
template <class T>
using SumOut = std::conditional_t<std::is_integral_v<T>, int64_t, T>;

}  // namespace skucast
