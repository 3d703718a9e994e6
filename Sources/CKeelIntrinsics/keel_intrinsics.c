#include "keel_intrinsics.h"
