// The protocol's datatypes as LibTorch scalar types: the one mapping, for the
// HAL and for the benchmark's in-process loop. Include only where LibTorch is
// already included.
#pragma once

#include <c10/core/ScalarType.h>

#include "edgeserve/core/datatype.h"

namespace edgeserve::hal {

// kBytes has no tensor type; it is refused before any tensor is made, and
// maps to kFloat only so that the switch is total.
inline c10::ScalarType ToScalarType(core::DataType type) {
  switch (type) {
    case core::DataType::kBool: return c10::kBool;
    case core::DataType::kUint8: return c10::kByte;
    case core::DataType::kInt8: return c10::kChar;
    case core::DataType::kInt16: return c10::kShort;
    case core::DataType::kInt32: return c10::kInt;
    case core::DataType::kInt64: return c10::kLong;
    case core::DataType::kFp16: return c10::kHalf;
    case core::DataType::kFp64: return c10::kDouble;
    case core::DataType::kFp32:
    case core::DataType::kBytes: break;
  }
  return c10::kFloat;
}

}  // namespace edgeserve::hal
