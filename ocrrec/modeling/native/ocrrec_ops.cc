// Paddle custom operators for CPU training: depthwise conv2d (NCHW, float32, channel multiplier 1,
// no dilation, no bias) and hard-swish, each with its gradient. OpenMP over planes / blocks; the
// vectorised inner loops live in cpu_kernels.inc (built for AVX2+FMA and for the baseline ISA).

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "paddle/extension.h"

namespace ocrrec_native {

constexpr int kMaxTaps = 256;  // kernel height * width; the Python side falls back above this

struct ConvGeometry {
  int64_t h, w;        // input plane
  int64_t kh, kw;      // kernel
  int64_t sh, sw;      // strides
  int64_t ph, pw;      // zero padding on each side
  int64_t ho, wo;      // output plane
  int64_t hq, wq;      // rows / columns of one stride phase of the padded input
  int64_t phase_size;  // floats per phase buffer: (hq + 1) * wq; the spare row absorbs wrap-around reads
  int64_t dy_front;    // largest tap shift inside a phase: zeros kept in front of dy for the gather
};

struct KernelTable {
  void (*conv_forward_plane)(const float*, const float*, float*, const ConvGeometry&, float*);
  void (*conv_backward_plane)(const float*, const float*, const float*, float*, double*, const ConvGeometry&,
                              float*);
  void (*hardswish_forward_block)(const float*, float*, int64_t);
  void (*hardswish_backward_block)(const float*, const float*, float*, int64_t);
};

#if defined(__x86_64__) || defined(__i386__)
#define OCRREC_HAVE_AVX2_COPY 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace avx2 {
#include "cpu_kernels.inc"
}  // namespace avx2
#pragma GCC pop_options
#endif

namespace baseline {
#include "cpu_kernels.inc"
}  // namespace baseline

// The AVX2+FMA copy when the CPU has both, unless OCRREC_NATIVE_ISA=baseline (used by the tests).
const KernelTable& Kernels() {
  static const KernelTable* table = [] {
    const char* forced = std::getenv("OCRREC_NATIVE_ISA");
    if (forced != nullptr && std::string(forced) == "baseline") return &baseline::kKernels;
#ifdef OCRREC_HAVE_AVX2_COPY
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return &avx2::kKernels;
#endif
    return &baseline::kKernels;
  }();
  return *table;
}

const char* KernelName() { return &Kernels() == &baseline::kKernels ? "baseline" : "avx2"; }

// Below this many multiply-adds (or elements) a call runs on one thread: waking threads costs more.
constexpr int64_t kMinParallelWork = 1 << 15;

ConvGeometry MakeGeometry(const std::vector<int64_t>& x_shape, const std::vector<int64_t>& w_shape,
                          const std::vector<int>& strides, const std::vector<int>& paddings) {
  PD_CHECK(x_shape.size() == 4, "ocrrec_depthwise_conv2d: input must be NCHW (4-D)");
  PD_CHECK(w_shape.size() == 4 && w_shape[0] == x_shape[1] && w_shape[1] == 1,
           "ocrrec_depthwise_conv2d: filter must be [C, 1, kh, kw] with C = input channels");
  PD_CHECK(strides.size() == 2 && strides[0] > 0 && strides[1] > 0, "ocrrec_depthwise_conv2d: bad strides");
  PD_CHECK(paddings.size() == 2 && paddings[0] >= 0 && paddings[1] >= 0, "ocrrec_depthwise_conv2d: bad paddings");
  ConvGeometry g;
  g.h = x_shape[2];
  g.w = x_shape[3];
  g.kh = w_shape[2];
  g.kw = w_shape[3];
  PD_CHECK(g.kh >= 1 && g.kw >= 1 && g.kh * g.kw <= kMaxTaps, "ocrrec_depthwise_conv2d: kernel too large");
  g.sh = strides[0];
  g.sw = strides[1];
  g.ph = paddings[0];
  g.pw = paddings[1];
  const int64_t hp = g.h + 2 * g.ph;
  const int64_t wp = g.w + 2 * g.pw;
  PD_CHECK(hp >= g.kh && wp >= g.kw, "ocrrec_depthwise_conv2d: kernel larger than the padded input");
  g.ho = (hp - g.kh) / g.sh + 1;
  g.wo = (wp - g.kw) / g.sw + 1;
  g.hq = (hp + g.sh - 1) / g.sh;
  g.wq = (wp + g.sw - 1) / g.sw;
  g.phase_size = (g.hq + 1) * g.wq;
  g.dy_front = ((g.kh - 1) / g.sh) * g.wq + (g.kw - 1) / g.sw;
  return g;
}

void CheckCpuFloat(const paddle::Tensor& t, const char* what) {
  PD_CHECK(t.is_cpu(), std::string("ocrrec native op: ") + what + " must be on the CPU");
  PD_CHECK(t.dtype() == paddle::DataType::FLOAT32, std::string("ocrrec native op: ") + what + " must be float32");
}

paddle::Tensor Contiguous(const paddle::Tensor& t) { return t.is_contiguous() ? t : t.contiguous(); }

int Threads(int requested) { return std::max(1, requested); }

}  // namespace ocrrec_native

using ocrrec_native::ConvGeometry;

std::vector<paddle::Tensor> DepthwiseConvForward(const paddle::Tensor& x_in, const paddle::Tensor& w_in,
                                                 const std::vector<int>& strides, const std::vector<int>& paddings,
                                                 int num_threads) {
  ocrrec_native::CheckCpuFloat(x_in, "input");
  ocrrec_native::CheckCpuFloat(w_in, "filter");
  const paddle::Tensor x = ocrrec_native::Contiguous(x_in);
  const paddle::Tensor w = ocrrec_native::Contiguous(w_in);
  const ConvGeometry g = ocrrec_native::MakeGeometry(x.shape(), w.shape(), strides, paddings);
  const int64_t batch = x.shape()[0];
  const int64_t channels = x.shape()[1];
  paddle::Tensor y = paddle::empty({batch, channels, g.ho, g.wo}, paddle::DataType::FLOAT32, x.place());
  const float* xp = x.data<float>();
  const float* wp = w.data<float>();
  float* yp = y.data<float>();
  const int64_t planes = batch * channels;
  const int64_t scratch_floats = g.sh * g.sw * g.phase_size + g.ho * g.wq;
  const auto& kernels = ocrrec_native::Kernels();
  const int threads = ocrrec_native::Threads(num_threads);
  const bool parallel = threads > 1 && planes > 1 && planes * g.ho * g.wo * g.kh * g.kw >= ocrrec_native::kMinParallelWork;
#pragma omp parallel num_threads(threads) if (parallel)
  {
    std::vector<float> scratch(scratch_floats);
#pragma omp for schedule(static)
    for (int64_t p = 0; p < planes; ++p) {
      const int64_t c = p % channels;
      kernels.conv_forward_plane(xp + p * g.h * g.w, wp + c * g.kh * g.kw, yp + p * g.ho * g.wo, g, scratch.data());
    }
  }
  return {y};
}

std::vector<paddle::Tensor> DepthwiseConvBackward(const paddle::Tensor& x_in, const paddle::Tensor& w_in,
                                                  const paddle::Tensor& dy_in, const std::vector<int>& strides,
                                                  const std::vector<int>& paddings, int num_threads) {
  ocrrec_native::CheckCpuFloat(x_in, "input");
  ocrrec_native::CheckCpuFloat(w_in, "filter");
  ocrrec_native::CheckCpuFloat(dy_in, "output gradient");
  const paddle::Tensor x = ocrrec_native::Contiguous(x_in);
  const paddle::Tensor w = ocrrec_native::Contiguous(w_in);
  const paddle::Tensor dy = ocrrec_native::Contiguous(dy_in);
  const ConvGeometry g = ocrrec_native::MakeGeometry(x.shape(), w.shape(), strides, paddings);
  const int64_t batch = x.shape()[0];
  const int64_t channels = x.shape()[1];
  PD_CHECK(dy.shape() == std::vector<int64_t>({batch, channels, g.ho, g.wo}),
           "ocrrec_depthwise_conv2d_grad: output gradient has the wrong shape");
  paddle::Tensor dx = paddle::empty(x.shape(), paddle::DataType::FLOAT32, x.place());
  paddle::Tensor dw = paddle::empty(w.shape(), paddle::DataType::FLOAT32, w.place());
  const float* xp = x.data<float>();
  const float* wp = w.data<float>();
  const float* dyp = dy.data<float>();
  float* dxp = dx.data<float>();
  float* dwp = dw.data<float>();
  const int64_t planes = batch * channels;
  const int64_t taps = g.kh * g.kw;
  const int64_t scratch_floats = 2 * g.sh * g.sw * g.phase_size + g.dy_front + g.hq * g.wq + 1;
  const auto& kernels = ocrrec_native::Kernels();
  const int threads = ocrrec_native::Threads(num_threads);
  const bool parallel = threads > 1 && planes > 1 && planes * g.ho * g.wo * taps >= ocrrec_native::kMinParallelWork;
  // One weight-gradient accumulator per thread, summed in thread order afterwards (deterministic).
  std::vector<double> dw_parts(static_cast<size_t>(threads) * channels * taps, 0.0);
#pragma omp parallel num_threads(threads) if (parallel)
  {
    std::vector<float> scratch(scratch_floats);
    double* own = dw_parts.data() + static_cast<int64_t>(omp_get_thread_num()) * channels * taps;
#pragma omp for schedule(static)
    for (int64_t p = 0; p < planes; ++p) {
      const int64_t c = p % channels;
      kernels.conv_backward_plane(xp + p * g.h * g.w, wp + c * taps, dyp + p * g.ho * g.wo, dxp + p * g.h * g.w,
                                  own + c * taps, g, scratch.data());
    }
  }
  for (int64_t i = 0; i < channels * taps; ++i) {
    double s = 0.0;
    for (int t = 0; t < threads; ++t) s += dw_parts[static_cast<size_t>(t) * channels * taps + i];
    dwp[i] = static_cast<float>(s);
  }
  return {dx, dw};
}

std::vector<std::vector<int64_t>> DepthwiseConvInferShape(const std::vector<int64_t>& x_shape,
                                                          const std::vector<int64_t>& w_shape,
                                                          const std::vector<int>& strides,
                                                          const std::vector<int>& paddings, int num_threads) {
  std::vector<int64_t> out = x_shape;
  if (x_shape.size() == 4 && w_shape.size() == 4) {
    for (int axis = 0; axis < 2; ++axis) {
      const int64_t size = x_shape[2 + axis];
      out[2 + axis] = size < 0 ? -1 : (size + 2 * paddings[axis] - w_shape[2 + axis]) / strides[axis] + 1;
    }
  }
  return {out};
}

std::vector<paddle::DataType> SameDtype(const paddle::DataType& x_dtype, const paddle::DataType& w_dtype) {
  return {x_dtype};
}

PD_BUILD_OP(ocrrec_depthwise_conv2d)
    .Inputs({"X", "Filter"})
    .Outputs({"Out"})
    .Attrs({"strides: std::vector<int>", "paddings: std::vector<int>", "num_threads: int"})
    .SetKernelFn(PD_KERNEL(DepthwiseConvForward))
    .SetInferShapeFn(PD_INFER_SHAPE(DepthwiseConvInferShape))
    .SetInferDtypeFn(PD_INFER_DTYPE(SameDtype));

PD_BUILD_GRAD_OP(ocrrec_depthwise_conv2d)
    .Inputs({"X", "Filter", paddle::Grad("Out")})
    .Outputs({paddle::Grad("X"), paddle::Grad("Filter")})
    .Attrs({"strides: std::vector<int>", "paddings: std::vector<int>", "num_threads: int"})
    .SetKernelFn(PD_KERNEL(DepthwiseConvBackward));

// ---------------------------------------------------------------------------------------------
// Hard-swish: y = x * min(max(x + 3, 0), 6) / 6 (Paddle's defaults).

namespace ocrrec_native {

constexpr int64_t kElementBlock = 1 << 14;

template <typename Fn>
void ForEachBlock(int64_t n, int num_threads, Fn fn) {
  const int64_t blocks = (n + kElementBlock - 1) / kElementBlock;
  const int threads = Threads(num_threads);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && blocks > 1)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t start = b * kElementBlock;
    fn(start, std::min(kElementBlock, n - start));
  }
}

}  // namespace ocrrec_native

std::vector<paddle::Tensor> HardswishForward(const paddle::Tensor& x_in, int num_threads) {
  ocrrec_native::CheckCpuFloat(x_in, "input");
  const paddle::Tensor x = ocrrec_native::Contiguous(x_in);
  paddle::Tensor y = paddle::empty(x.shape(), paddle::DataType::FLOAT32, x.place());
  const float* xp = x.data<float>();
  float* yp = y.data<float>();
  const auto& kernels = ocrrec_native::Kernels();
  ocrrec_native::ForEachBlock(x.numel(), num_threads, [&](int64_t start, int64_t count) {
    kernels.hardswish_forward_block(xp + start, yp + start, count);
  });
  return {y};
}

std::vector<paddle::Tensor> HardswishBackward(const paddle::Tensor& x_in, const paddle::Tensor& dy_in,
                                              int num_threads) {
  ocrrec_native::CheckCpuFloat(x_in, "input");
  ocrrec_native::CheckCpuFloat(dy_in, "output gradient");
  const paddle::Tensor x = ocrrec_native::Contiguous(x_in);
  const paddle::Tensor dy = ocrrec_native::Contiguous(dy_in);
  PD_CHECK(x.numel() == dy.numel(), "ocrrec_hardswish_grad: output gradient has the wrong size");
  paddle::Tensor dx = paddle::empty(x.shape(), paddle::DataType::FLOAT32, x.place());
  const float* xp = x.data<float>();
  const float* dyp = dy.data<float>();
  float* dxp = dx.data<float>();
  const auto& kernels = ocrrec_native::Kernels();
  ocrrec_native::ForEachBlock(x.numel(), num_threads, [&](int64_t start, int64_t count) {
    kernels.hardswish_backward_block(xp + start, dyp + start, dxp + start, count);
  });
  return {dx};
}

std::vector<std::vector<int64_t>> HardswishInferShape(const std::vector<int64_t>& x_shape, int num_threads) {
  return {x_shape};
}

std::vector<paddle::DataType> HardswishInferDtype(const paddle::DataType& x_dtype) { return {x_dtype}; }

PD_BUILD_OP(ocrrec_hardswish)
    .Inputs({"X"})
    .Outputs({"Out"})
    .Attrs({"num_threads: int"})
    .SetKernelFn(PD_KERNEL(HardswishForward))
    .SetInferShapeFn(PD_INFER_SHAPE(HardswishInferShape))
    .SetInferDtypeFn(PD_INFER_DTYPE(HardswishInferDtype));

PD_BUILD_GRAD_OP(ocrrec_hardswish)
    .Inputs({"X", paddle::Grad("Out")})
    .Outputs({paddle::Grad("X")})
    .Attrs({"num_threads: int"})
    .SetKernelFn(PD_KERNEL(HardswishBackward));
