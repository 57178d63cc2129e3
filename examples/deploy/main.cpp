// Classifies one handwritten digit with a LeNet-5 program, as an application would ship it:
//   deploy MODEL.pycnn DIGIT.pgm [--mean M] [--std S]
// The image is an 8-bit binary PGM (P5) of 28x28 pixels, scaled to [0, 1] as ToTensor does. A program from
// `pycnn export` normalises its input itself; for one exported without that (`pycnn export --no-normalize`,
// or pc.export of the bare model) pass the training set's statistics, --mean 0.1307 --std 0.3081 for MNIST.
// Prints the predicted class and the ten probabilities (softmax over the program's logits).
#include <pycnn/ops.h>      // defines: softmax_forward
#include <pycnn/program.h>  // defines: pycnn::Program

#include <cctype>  // defines: std::isspace
#include <cstdio>
#include <cstdlib>  // defines: std::strtol, std::strtof
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

constexpr int kSize = 28;

// One header token of a PGM: skips whitespace and # comments.
std::string pgm_token(std::istream& in) {
  std::string tok;
  int c;
  while ((c = in.get()) != EOF) {
    if (c == '#') {
      while ((c = in.get()) != EOF && c != '\n') {
      }
    } else if (std::isspace(c)) {
      if (!tok.empty()) break;
    } else {
      tok += static_cast<char>(c);
    }
  }
  return tok;
}

long pgm_number(std::istream& in, const char* what, const std::string& path) {
  const std::string tok = pgm_token(in);
  char* end = nullptr;
  const long v = std::strtol(tok.c_str(), &end, 10);
  if (tok.empty() || *end != '\0' || v <= 0)
    throw pycnn::ValueError("[deploy] " + path + ": bad PGM " + what + " '" + tok + "'");
  return v;
}

// The image as a (1, 1, 28, 28) float32 tensor in [0, 1].
pycnn::Tensor read_pgm(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("[deploy] cannot open '" + path + "'");
  if (pgm_token(in) != "P5") throw pycnn::ValueError("[deploy] " + path + " is not a binary PGM (P5)");
  const long w = pgm_number(in, "width", path), h = pgm_number(in, "height", path);
  const long maxval = pgm_number(in, "maxval", path);
  if (w != kSize || h != kSize)
    throw pycnn::ValueError(pycnn::str("[deploy] ", path, " is ", w, "x", h, ", expected 28x28"));
  if (maxval > 255) throw pycnn::ValueError(pycnn::str("[deploy] ", path, " has maxval ", maxval, ", not 8-bit"));
  std::vector<unsigned char> pixels(kSize * kSize);  // the single whitespace after maxval was read by pgm_token
  in.read(reinterpret_cast<char*>(pixels.data()), static_cast<std::streamsize>(pixels.size()));
  if (in.gcount() != static_cast<std::streamsize>(pixels.size()))
    throw pycnn::ValueError(pycnn::str("[deploy] ", path, " holds ", in.gcount(), " of its 784 pixels"));
  pycnn::Tensor x = pycnn::Tensor::empty({1, 1, kSize, kSize}, pycnn::DType::Float32);
  for (size_t i = 0; i < pixels.size(); ++i) x.data<float>()[i] = pixels[i] / 255.0f;  // as ToTensor
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: deploy MODEL.pycnn DIGIT.pgm [--mean M] [--std S]\n");
    return 2;
  }
  float mean = 0.0f, std_dev = 1.0f;  // a program from `pycnn export` takes [0, 1] pixels as they are
  for (int i = 3; i < argc; i += 2) {
    const std::string flag = argv[i];
    char* end = nullptr;
    const float v = i + 1 < argc ? std::strtof(argv[i + 1], &end) : 0.0f;
    const bool number = end && end != argv[i + 1] && *end == '\0';
    if (flag == "--mean" && number)
      mean = v;
    else if (flag == "--std" && number && v > 0)
      std_dev = v;
    else {
      std::fprintf(stderr, "deploy: bad option %s %s\n", argv[i], i + 1 < argc ? argv[i + 1] : "(no value)");
      return 2;
    }
  }
  try {
    const pycnn::Program prog = pycnn::Program::load(argv[1]);
    pycnn::Tensor x = read_pgm(argv[2]);
    for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = (x.data<float>()[i] - mean) / std_dev;
    const pycnn::Tensor logits = prog.run({x}).at(0);
    const pycnn::Tensor probs = pycnn::softmax_forward(logits, 1).contiguous();
    const float* p = probs.data<float>();
    int best = 0;
    for (int c = 1; c < probs.size(1); ++c)
      if (p[c] > p[best]) best = c;
    std::printf("class %d\n", best);
    for (int c = 0; c < probs.size(1); ++c) std::printf("%d %.6f\n", c, p[c]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "deploy: %s\n", e.what());
    return 1;
  }
  return 0;
}
