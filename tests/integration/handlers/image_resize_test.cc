// The image-resize job type on images these tests make with libvips itself, in temporary input
// and output directories; URL sources come from the loopback HTTP test server, allowlisted
// (127.0.0.0/8) except where the SSRF guard is the subject. Outputs are checked by reading them
// back: magic bytes, then the header libvips reads.
// Over 600 lines: one file per handler, as for every handler; file and URL sources share one
// fixture (directories, HTTP server, image makers), which a split would repeat.
#include "handlers/image_resize.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vips/vips8>

#include "common/field_errors.h"
#include "testing/fake_job_context.h"
#include "testing/http_server.h"
#include "testing/redis_server.h"
#include "testing/smtp_server.h"

namespace taskq::handlers {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::taskq::testing::FakeJobContext;
using ::taskq::testing::HttpServer;
using ::taskq::testing::TempDir;
using Kind = HandlerResult::Kind;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const fs::path& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// An sRGB gradient: red grows left to right, green top to bottom, so a crop or a squash shows.
vips::VImage Gradient(int width, int height) {
  const vips::VImage xy = vips::VImage::xyz(width, height);
  const vips::VImage red = xy[0] * (255.0 / width);
  const vips::VImage green = xy[1] * (255.0 / height);
  return red.bandjoin(green)
      .bandjoin((red + green) / 2)
      .cast(VIPS_FORMAT_UCHAR)
      .copy(vips::VImage::option()->set("interpretation", VIPS_INTERPRETATION_sRGB));
}

std::string MagicFormat(const std::string& bytes) {
  if (bytes.starts_with("\xFF\xD8\xFF")) return "jpeg";
  if (bytes.starts_with("\x89PNG\r\n\x1A\n")) return "png";
  if (bytes.size() >= 12 && bytes.starts_with("RIFF") && bytes.substr(8, 4) == "WEBP") {
    return "webp";
  }
  return "unknown";
}

// PNG chunk CRC (ISO 3309), for the hand-made header below.
uint32_t Crc32(std::string_view bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (char c : bytes) {
    crc ^= static_cast<unsigned char>(c);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string BigEndian32(uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
          static_cast<char>(n)};
}

std::string PngChunk(std::string_view type, std::string_view data) {
  const std::string body = std::string(type) + std::string(data);
  return BigEndian32(static_cast<uint32_t>(data.size())) + body + BigEndian32(Crc32(body));
}

// A valid PNG signature and header announcing width x height RGB pixels, then a few bytes of
// pixel data that are not even valid zlib: a decoder that went past the header would fail with a
// different error (or allocate gigabytes first).
std::string PngHeaderOnly(uint32_t width, uint32_t height) {
  const std::string ihdr =
      BigEndian32(width) + BigEndian32(height) + std::string("\x08\x02\0\0\0", 5);
  return std::string("\x89PNG\r\n\x1A\n") + PngChunk("IHDR", ihdr) + PngChunk("IDAT", "not zlib") +
         PngChunk("IEND", "");
}

class ImageResizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The handler initialises libvips; the tests use it too, to make and read images.
    MakeImageResizeHandler(Options());
    fs::create_directories(input_root());
  }

  fs::path input_root() const { return fs::path(dir_.path()) / "in"; }
  fs::path output_dir() const { return fs::path(dir_.path()) / "out"; }

  ImageResizeOptions Options() const {
    ImageResizeOptions options;
    options.input_root = input_root().string();
    options.output_dir = output_dir().string();
    options.allow_cidrs = {"127.0.0.0/8"};
    options.allowed_ports.clear();  // the test server's port is random
    return options;
  }

  HandlerResult Run(const ImageResizeOptions& options, const json::object& data) {
    FakeJobContext ctx("job-1", json::serialize(data));
    return MakeImageResizeHandler(options)(ctx);
  }

  // A gradient saved as `name` below the input root, in the format its suffix names.
  std::string Source(const std::string& name, int width, int height) {
    const std::string path = (input_root() / name).string();
    Gradient(width, height).write_to_file(path.c_str());
    return path;
  }

  TempDir dir_;
};

json::object Output(int width, int height, std::string_view fit, std::string_view format,
                    std::string_view path) {
  return {{"width", width}, {"height", height}, {"fit", fit}, {"format", format}, {"path", path}};
}

TEST_F(ImageResizeTest, EachFitModeGivesItsDocumentedSizeAndFormat) {
  const std::string source = Source("wide.jpg", 400, 200);
  const json::array outputs = {
      Output(100, 100, "cover", "jpeg", "cover.jpg"),
      Output(100, 100, "contain", "png", "sub/dir/contain.png"),
      Output(100, 100, "inside", "webp", "inside.webp"),
      Output(100, 100, "fill", "jpeg", "fill.jpg"),
      Output(800, 800, "inside", "png", "not-enlarged.png"),
      Output(100, 100, "contain", "jpeg", "contain.jpg"),
  };
  FakeJobContext ctx("job-1",
                     json::serialize(json::object{{"source", source}, {"outputs", outputs}}));
  const HandlerResult result = MakeImageResizeHandler(Options())(ctx);
  ASSERT_EQ(result.kind, Kind::kSuccess) << result.message;
  EXPECT_EQ(ctx.progress.back(), R"({"done":6,"total":6})");

  struct Expected {
    int width, height;
    std::string format, loader;
  };
  const Expected expected[] = {
      {100, 100, "jpeg", "jpegload"}, {100, 100, "png", "pngload"}, {100, 50, "webp", "webpload"},
      {100, 100, "jpeg", "jpegload"}, {400, 200, "png", "pngload"}, {100, 100, "jpeg", "jpegload"},
  };
  const json::value reply = json::parse(result.result_json);
  EXPECT_EQ(reply.at("source"), (json::object{{"width", 400}, {"height", 200}}));
  const json::array& written = reply.at("outputs").as_array();
  ASSERT_EQ(written.size(), 6u);
  for (size_t i = 0; i < written.size(); ++i) {
    const std::string path = json::value_to<std::string>(written[i].at("path"));
    SCOPED_TRACE(path);
    EXPECT_EQ(path, json::value_to<std::string>(outputs[i].at("path")));
    const fs::path file = output_dir() / path;
    const std::string bytes = ReadFile(file);
    EXPECT_EQ(MagicFormat(bytes), expected[i].format);
    EXPECT_EQ(written[i].at("format"), expected[i].format.c_str());
    EXPECT_EQ(written[i].at("bytes").to_number<int64_t>(), static_cast<int64_t>(bytes.size()));
    EXPECT_EQ(written[i].at("width"), expected[i].width);
    EXPECT_EQ(written[i].at("height"), expected[i].height);
    const vips::VImage image = vips::VImage::new_from_file(file.c_str());
    EXPECT_EQ(image.width(), expected[i].width);
    EXPECT_EQ(image.height(), expected[i].height);
    EXPECT_EQ(std::string(image.get_string("vips-loader")), expected[i].loader);
  }

  // contain pads to the exact box: transparent in PNG, white in JPEG, the image in the middle.
  const vips::VImage contain_png =
      vips::VImage::new_from_file((output_dir() / "sub/dir/contain.png").c_str());
  ASSERT_EQ(contain_png.bands(), 4);
  EXPECT_EQ(contain_png.getpoint(50, 5)[3], 0) << "padding above is transparent";
  EXPECT_EQ(contain_png.getpoint(50, 50)[3], 255) << "the image itself is opaque";
  const vips::VImage contain_jpg =
      vips::VImage::new_from_file((output_dir() / "contain.jpg").c_str());
  EXPECT_GE(contain_jpg.getpoint(50, 5)[0], 250) << "padding above is white";
  EXPECT_GE(contain_jpg.getpoint(50, 95)[1], 250) << "padding below is white";

  // cover keeps the centre: the left and right quarters of the 2:1 source are cut off.
  const vips::VImage cover = vips::VImage::new_from_file((output_dir() / "cover.jpg").c_str());
  EXPECT_NEAR(cover.getpoint(0, 50)[0], 255.0 / 4, 12);
  // fill squashes the whole width in: the left edge is the source's left edge.
  const vips::VImage fill = vips::VImage::new_from_file((output_dir() / "fill.jpg").c_str());
  EXPECT_LT(fill.getpoint(0, 50)[0], 12);

  for (const auto& entry : fs::recursive_directory_iterator(output_dir())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos)
        << "temporary file left: " << entry.path();
  }
}

TEST_F(ImageResizeTest, MetadataIsStrippedUnlessKept) {
  const std::string marker = "taskq-private-xmp-marker";
  const std::string xmp =
      "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/"
      "1999/02/22-rdf-syntax-ns#\"><rdf:Description about=\"" +
      marker + "\"/></rdf:RDF></x:xmpmeta>";
  vips::VImage image = Gradient(300, 200).copy();
  vips_image_set_blob_copy(image.get_image(), "xmp-data", xmp.data(), xmp.size());
  const std::string source = (input_root() / "tagged.jpg").string();
  image.jpegsave(source.c_str());
  ASSERT_NE(ReadFile(source).find(marker), std::string::npos) << "the source must carry the XMP";

  const json::array outputs = {Output(60, 40, "cover", "jpeg", "a.jpg"),
                               Output(60, 40, "cover", "png", "a.png"),
                               Output(60, 40, "cover", "webp", "a.webp")};
  HandlerResult result = Run(Options(), {{"source", source}, {"outputs", outputs}});
  ASSERT_EQ(result.kind, Kind::kSuccess) << result.message;
  for (const char* name : {"a.jpg", "a.png", "a.webp"}) {
    EXPECT_EQ(ReadFile(output_dir() / name).find(marker), std::string::npos) << name;
    const vips::VImage out = vips::VImage::new_from_file((output_dir() / name).c_str());
    EXPECT_EQ(out.get_typeof("xmp-data"), 0u) << name;
  }

  result = Run(Options(), {{"source", source},
                           {"outputs", json::array{Output(60, 40, "cover", "jpeg", "kept.jpg")}},
                           {"keep_metadata", true}});
  ASSERT_EQ(result.kind, Kind::kSuccess) << result.message;
  EXPECT_NE(ReadFile(output_dir() / "kept.jpg").find(marker), std::string::npos);
}

TEST_F(ImageResizeTest, CorruptOrNonImageSourceFailsPermanently) {
  WriteFile(input_root() / "notes.txt", "these are not the pixels you are looking for\n");
  const std::string whole = ReadFile(Source("photo.jpg", 600, 400));
  WriteFile(input_root() / "truncated.jpg", whole.substr(0, whole.size() / 3));
  WriteFile(input_root() / "garbage.png", "\x89PNG\r\n\x1A\n" + std::string(500, 'x'));

  for (const char* name : {"notes.txt", "truncated.jpg", "garbage.png"}) {
    const HandlerResult result =
        Run(Options(), {{"source", (input_root() / name).string()},
                        {"outputs", json::array{Output(50, 50, "cover", "jpeg", "x.jpg")}}});
    EXPECT_EQ(result.kind, Kind::kFail) << name << ": " << result.message;
    EXPECT_NE(result.message.find("image"), std::string::npos) << result.message;
  }
  EXPECT_TRUE(fs::is_empty(output_dir())) << "neither an output nor a temporary file is left";
}

TEST_F(ImageResizeTest, TooManyPixelsAreRefusedFromTheHeaderBeforeDecoding) {
  // 30000 x 30000 = 900 MP, over the default 100 MP limit; decoding would need 2.7 GB.
  WriteFile(input_root() / "bomb.png", PngHeaderOnly(30000, 30000));
  HandlerResult result =
      Run(Options(), {{"source", (input_root() / "bomb.png").string()},
                      {"outputs", json::array{Output(50, 50, "cover", "jpeg", "x.jpg")}}});
  EXPECT_EQ(result.kind, Kind::kFail);
  EXPECT_NE(
      result.message.find("30000x30000 is 900000000 pixels, more than the limit of 100000000"),
      std::string::npos)
      << result.message;

  ImageResizeOptions options = Options();
  options.max_pixels = 99 * 99;
  result = Run(options, {{"source", Source("small.png", 100, 100)},
                         {"outputs", json::array{Output(50, 50, "cover", "jpeg", "x.jpg")}}});
  EXPECT_EQ(result.kind, Kind::kFail);
  EXPECT_NE(result.message.find("more than the limit of 9801"), std::string::npos)
      << result.message;
  EXPECT_FALSE(fs::exists(output_dir() / "x.jpg"));
}

// Interlaced PNGs, progressive JPEGs, WebP, GIF and TIFF count as decoded whole: the header's
// size, bands and bit depth must fit max_decode_bytes. Streamed sources of the same size (baseline
// JPEG, plain PNG) are not held to it.
TEST_F(ImageResizeTest, SourcesDecodedWholeMustFitTheDecodeBudget) {
  auto write = [&](const std::string& name, const vips::VImage& image, vips::VOption* options) {
    const std::string file = (input_root() / name).string();
    image.write_to_file(file.c_str(), options);
    return file;
  };
  const vips::VImage rgb = Gradient(100, 100);  // 30,000 samples
  struct Case {
    std::string source;
    bool fits;
    const char* how;  // in the message when it does not fit
  } cases[] = {
      {write("interlaced.png", rgb, vips::VImage::option()->set("interlace", true)), true, ""},
      {write("interlaced16.png", rgb.cast(VIPS_FORMAT_USHORT) * 257,
             vips::VImage::option()->set("interlace", true)->set("bitdepth", 16)),
       false, "(pngload, interlaced): 60000 bytes"},
      {write("progressive.jpg", rgb, vips::VImage::option()->set("interlace", true)), false,
       "(jpegload, interlaced): 60000 bytes"},
      {write("whole.webp", rgb, nullptr), true, ""},
      {write("whole-alpha.webp", rgb.bandjoin(255).cast(VIPS_FORMAT_UCHAR), nullptr), true, ""},
      {write("baseline.jpg", Gradient(400, 400), nullptr), true, ""},  // streamed: 480,000
      {write("plain.png", Gradient(400, 400), nullptr), true, ""},
      {write("big.webp", Gradient(200, 200), nullptr), false, "(webpload): 120000 bytes"},
      {write("big.gif", Gradient(200, 200), nullptr), false, "(gifload): 160000 bytes"},
      {write("small.gif", Gradient(100, 100), nullptr), true, ""},  // 40,000 as RGBA
      {write("big.tif", Gradient(200, 200), nullptr), false, "(tiffload): 120000 bytes"},
  };
  ImageResizeOptions options = Options();
  options.max_decode_bytes = 45000;
  for (const Case& c : cases) {
    const HandlerResult result = Run(
        options,
        {{"source", c.source}, {"outputs", json::array{Output(20, 20, "cover", "png", "x.png")}}});
    if (c.fits) {
      EXPECT_EQ(result.kind, Kind::kSuccess) << c.source << ": " << result.message;
      continue;
    }
    EXPECT_EQ(result.kind, Kind::kFail) << c.source;
    EXPECT_NE(result.message.find(c.how), std::string::npos) << result.message;
    EXPECT_NE(result.message.find("is decoded whole"), std::string::npos) << result.message;
    EXPECT_NE(result.message.find("more than the budget of 45000"), std::string::npos)
        << result.message;
  }
  options.max_decode_bytes = 0;
  EXPECT_EQ(ValidateImageResizeOptions(options).field(), "max_decode_bytes");
}

// libvips' loaders for formats not fuzzed for hostile input (SVG, PDF, ImageMagick's many, PPM,
// its own text matrix) are blocked: such a source fails as not an image.
TEST_F(ImageResizeTest, UntrustedLoadersAreBlocked) {
  const std::pair<const char*, std::string> sources[] = {
      {"x.svg",
       "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">"
       "<rect width=\"10\" height=\"10\" fill=\"red\"/></svg>"},
      {"x.pdf",
       "%PDF-1.1\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
       "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>endobj\n"
       "trailer<</Root 1 0 R>>\n%%EOF\n"},
      // A 1x1 24-bit BMP: only ImageMagick reads it.
      {"x.bmp", std::string("BM\x3a\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0\x01\0\0\0"
                            "\x01\0\0\0\x01\0\x18\0\0\0\0\0\x04\0\0\0\x13\x0b\0\0"
                            "\x13\x0b\0\0\0\0\0\0\0\0\0\0\0\0\xff\0",
                            58)},
      {"x.ppm", "P3\n1 1\n255\n255 0 0\n"},
      {"x.mat", "2 2\n1 2\n3 4\n"},
  };
  for (const auto& [name, bytes] : sources) {
    WriteFile(input_root() / name, bytes);
    const HandlerResult result =
        Run(Options(), {{"source", (input_root() / name).string()},
                        {"outputs", json::array{Output(5, 5, "cover", "png", "x.png")}}});
    EXPECT_EQ(result.kind, Kind::kFail) << name;
    EXPECT_NE(result.message.find("not a supported image"), std::string::npos)
        << name << ": " << result.message;
  }
  EXPECT_FALSE(fs::exists(output_dir() / "x.png"));
  // Those loaders are built into this libvips and blocked (the handler blocked them when it was
  // made), not merely missing. ImageMagick reads sources through its buffer loader.
  for (const char* loader : {"svgload_source", "pdfload_source", "magickload_buffer",
                             "ppmload_source", "matrixload_source"}) {
    const GType type = vips_type_find("VipsOperation", loader);
    ASSERT_NE(type, 0u) << loader << " is not built into this libvips";
    const auto* operation = VIPS_OPERATION_CLASS(g_type_class_ref(type));
    EXPECT_TRUE(operation->flags & VIPS_OPERATION_BLOCKED) << loader;
  }
}

TEST_F(ImageResizeTest, SourceOutsideTheInputRootIsRefused) {
  TempDir elsewhere;
  const std::string outside = (fs::path(elsewhere.path()) / "outside.png").string();
  Gradient(20, 20).write_to_file(outside.c_str());
  fs::create_symlink(outside, input_root() / "link.png");
  fs::create_directory_symlink(elsewhere.path(), input_root() / "linked-dir");
  const json::array outputs = {Output(10, 10, "cover", "png", "x.png")};
  for (const std::string& source : {outside, (input_root() / "link.png").string(),
                                    (input_root() / "linked-dir" / "outside.png").string(),
                                    (input_root() / ".." / "in" / ".." / "x.png").string()}) {
    const HandlerResult result = Run(Options(), {{"source", source}, {"outputs", outputs}});
    EXPECT_EQ(result.kind, Kind::kFail) << source;
    EXPECT_NE(result.message.find("data.source"), std::string::npos) << result.message;
  }
  const HandlerResult missing =
      Run(Options(), {{"source", (input_root() / "missing.png").string()}, {"outputs", outputs}});
  EXPECT_EQ(missing.kind, Kind::kFail);
  EXPECT_NE(missing.message.find("no such file"), std::string::npos) << missing.message;
  EXPECT_FALSE(fs::exists(output_dir() / "x.png"));
}

TEST_F(ImageResizeTest, OutputPathsThatLeaveTheOutputDirectoryAreRefused) {
  for (const char* path :
       {"/tmp/x.jpg", "../x.jpg", "a/../../x.jpg", "a//x.jpg", "./x.jpg", "", "a/", "x\n.jpg"}) {
    const Status status = ValidateImageResizeData(json::serialize(
        json::object{{"source", "/data/images/a.jpg"},
                     {"outputs", json::array{Output(10, 10, "cover", "jpeg", "ok.jpg"),
                                             Output(10, 10, "cover", "jpeg", path)}}}));
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << path;
    EXPECT_EQ(status.field(), "data.outputs[1].path") << path;
  }

  // A symlink inside the output directory is not followed, wherever it points.
  TempDir elsewhere;
  fs::create_directories(output_dir());
  fs::create_directory_symlink(elsewhere.path(), output_dir() / "escape");
  const std::string source = Source("a.png", 40, 40);
  const HandlerResult result =
      Run(Options(), {{"source", source},
                      {"outputs", json::array{Output(10, 10, "cover", "png", "escape/x.png")}}});
  EXPECT_EQ(result.kind, Kind::kFail);
  EXPECT_NE(result.message.find("symlink"), std::string::npos) << result.message;
  EXPECT_TRUE(fs::is_empty(elsewhere.path()));
}

TEST_F(ImageResizeTest, InvalidDataNamesTheField) {
  struct Case {
    json::object data;
    std::string field;
  };
  const json::object ok = Output(10, 10, "cover", "jpeg", "a.jpg");
  json::object bad_fit = ok;
  bad_fit["fit"] = "stretch";
  json::object bad_quality = ok;
  bad_quality["quality"] = 0;
  json::object bad_width = ok;
  bad_width["width"] = 10001;
  json::object bad_format = ok;
  bad_format["format"] = "gif";
  json::object extra = ok;
  extra["colour"] = "red";
  json::array eleven;
  for (int i = 0; i < 11; ++i) {
    eleven.push_back(Output(10, 10, "cover", "jpeg", "o" + std::to_string(i) + ".jpg"));
  }
  const Case cases[] = {
      {{{"outputs", json::array{ok}}}, "data.source"},
      {{{"source", "relative/a.jpg"}, {"outputs", json::array{ok}}}, "data.source"},
      {{{"source", "ftp://example.com/a.jpg"}, {"outputs", json::array{ok}}}, "data.source"},
      {{{"source", "/a.jpg"}}, "data.outputs"},
      {{{"source", "/a.jpg"}, {"outputs", json::array{}}}, "data.outputs"},
      {{{"source", "/a.jpg"}, {"outputs", eleven}}, "data.outputs"},
      {{{"source", "/a.jpg"}, {"outputs", json::array{ok, bad_fit}}}, "data.outputs[1].fit"},
      {{{"source", "/a.jpg"}, {"outputs", json::array{bad_quality}}}, "data.outputs[0].quality"},
      {{{"source", "/a.jpg"}, {"outputs", json::array{bad_width}}}, "data.outputs[0].width"},
      {{{"source", "/a.jpg"}, {"outputs", json::array{bad_format}}}, "data.outputs[0].format"},
      {{{"source", "/a.jpg"}, {"outputs", json::array{extra}}}, "data.outputs[0].colour"},
      {{{"source", "/a.jpg"}, {"outputs", json::array{ok, ok}}}, "data.outputs[1].path"},
      {{{"source", "/a.jpg"}, {"outputs", json::array{ok}}, {"keep_metadata", "yes"}},
       "data.keep_metadata"},
  };
  for (const Case& c : cases) {
    const Status status = ValidateImageResizeData(json::serialize(c.data));
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << json::serialize(c.data);
    EXPECT_EQ(status.field(), c.field) << json::serialize(c.data) << ": " << status.ToString();
    // The handler checks the data again, and an invalid job fails at once.
    EXPECT_EQ(Run(Options(), c.data).kind, Kind::kFail);
  }
  EXPECT_TRUE(
      ValidateImageResizeData(json::serialize(json::object{{"source", "https://example.com/a.jpg"},
                                                           {"outputs", json::array{ok}}}))
          .ok());
}

TEST(ValidateImageResizeDataTest, NamesEveryInvalidField) {
  json::object bad = Output(10001, 10, "stretch", "jpeg", "a.jpg");
  bad["quality"] = 0;
  const json::object ok = Output(10, 10, "cover", "jpeg", "b.jpg");
  const json::object data = {{"source", "relative/a.jpg"},
                             {"outputs", json::array{bad, ok, ok}},
                             {"keep_metadata", "yes"}};
  const Status status = ValidateImageResizeData(json::serialize(data));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldNames(status),
            (std::vector<std::string>{"data.source", "data.outputs[0].width", "data.outputs[0].fit",
                                      "data.outputs[0].quality", "data.outputs[2].path",
                                      "data.keep_metadata"}));
}

TEST_F(ImageResizeTest, InvalidOptionsFailEveryJob) {
  ImageResizeOptions options = Options();
  options.allow_cidrs = {"10.1.2.3/8"};
  EXPECT_EQ(ValidateImageResizeOptions(options).field(), "allow_cidrs");
  const HandlerResult result =
      Run(options, {{"source", Source("a.png", 20, 20)},
                    {"outputs", json::array{Output(10, 10, "cover", "png", "x.png")}}});
  EXPECT_EQ(result.kind, Kind::kFail);
  EXPECT_NE(result.message.find("configuration error"), std::string::npos) << result.message;
}

class ImageResizeUrlTest : public ImageResizeTest {
 protected:
  HttpServer server_;
};

TEST_F(ImageResizeUrlTest, AllowlistedUrlSourceIsFetchedAndResized) {
  Gradient(300, 150).write_to_file((fs::path(server_.files_dir()) / "remote.png").c_str());
  const HandlerResult result =
      Run(Options(), {{"source", server_.Url("/files/remote.png")},
                      {"outputs", json::array{Output(100, 100, "inside", "webp", "r.webp")}}});
  ASSERT_EQ(result.kind, Kind::kSuccess) << result.message;
  const vips::VImage image = vips::VImage::new_from_file((output_dir() / "r.webp").c_str());
  EXPECT_EQ(image.width(), 100);
  EXPECT_EQ(image.height(), 50);
  ASSERT_EQ(server_.Requests().size(), 1u);
  EXPECT_EQ(server_.Requests()[0].method, "GET");
  for (const auto& entry : fs::directory_iterator(output_dir())) {
    EXPECT_EQ(entry.path().filename(), "r.webp") << "the download must not be left behind";
  }
}

TEST_F(ImageResizeUrlTest, PrivateUrlIsRefusedUnlessAllowlisted) {
  Gradient(30, 30).write_to_file((fs::path(server_.files_dir()) / "remote.png").c_str());
  ImageResizeOptions options = Options();
  options.allow_cidrs.clear();
  for (const std::string& url :
       {server_.Url("/files/remote.png"),
        "http://localhost:" + std::to_string(server_.port()) + "/files/remote.png",
        std::string("http://169.254.169.254/latest/meta-data/")}) {
    const HandlerResult result =
        Run(options,
            {{"source", url}, {"outputs", json::array{Output(10, 10, "cover", "png", "x.png")}}});
    EXPECT_EQ(result.kind, Kind::kFail) << url;
    EXPECT_NE(result.message.find("refused"), std::string::npos) << url << ": " << result.message;
  }
  EXPECT_TRUE(server_.Requests().empty()) << "nothing may reach a refused address";
}

TEST_F(ImageResizeUrlTest, OnlyAllowedPortsAreFetched) {
  Gradient(30, 30).write_to_file((fs::path(server_.files_dir()) / "remote.png").c_str());
  ImageResizeOptions options = Options();
  options.allowed_ports = kDefaultAllowedPorts;
  const json::object data = {{"source", server_.Url("/files/remote.png")},
                             {"outputs", json::array{Output(10, 10, "cover", "png", "x.png")}}};
  HandlerResult result = Run(options, data);
  EXPECT_EQ(result.kind, Kind::kFail);
  EXPECT_NE(result.message.find("port " + std::to_string(server_.port()) +
                                " is not allowed (allowed: 80, 443; --image-ports)"),
            std::string::npos)
      << result.message;
  EXPECT_TRUE(server_.Requests().empty());
  options.allowed_ports = {server_.port()};
  result = Run(options, data);
  EXPECT_EQ(result.kind, Kind::kSuccess) << result.message;
  options.allowed_ports = {65536};
  EXPECT_EQ(ValidateImageResizeOptions(options).field(), "allowed_ports");
}

TEST_F(ImageResizeUrlTest, TransientFetchFailuresAreRetriedOthersFail) {
  const json::array outputs = {Output(10, 10, "cover", "png", "x.png")};
  auto run = [&](const ImageResizeOptions& options, const std::string& url) {
    return Run(options, {{"source", url}, {"outputs", outputs}});
  };
  EXPECT_EQ(run(Options(), server_.Url("/busy")).kind, Kind::kRetry);
  const std::string closed =
      "http://127.0.0.1:" + std::to_string(testing::FreeLoopbackPort()) + "/a.png";
  EXPECT_EQ(run(Options(), closed).kind, Kind::kRetry);
  ImageResizeOptions quick = Options();
  quick.fetch_timeout = std::chrono::milliseconds(300);
  const HandlerResult slow = run(quick, server_.Url("/slow"));
  EXPECT_EQ(slow.kind, Kind::kRetry) << slow.message;

  const HandlerResult missing = run(Options(), server_.Url("/files/missing.png"));
  EXPECT_EQ(missing.kind, Kind::kFail);
  EXPECT_NE(missing.message.find("answered 404"), std::string::npos) << missing.message;
  EXPECT_EQ(run(Options(), server_.Url("/redirect-local")).kind, Kind::kFail);
  ImageResizeOptions small = Options();
  small.max_source_bytes = 1000;
  const HandlerResult big = run(small, server_.Url("/big"));
  EXPECT_EQ(big.kind, Kind::kFail);
  EXPECT_NE(big.message.find("larger than 1000 bytes"), std::string::npos) << big.message;
  // A body that is not an image.
  EXPECT_EQ(run(Options(), server_.Url("/ok")).kind, Kind::kFail);
}

// ----------------------------------------------------------------------------------------------
// Memory: a 6000x4000 source resized in a fresh process (this binary again, running only
// ImageResizeMemoryChild), whose peak resident memory is measured around the job.

constexpr const char* kMemoryChildEnv = "TASKQ_IMAGE_MEMORY_CHILD";
constexpr int64_t kMemoryBoundKib = 150 * 1024;

int64_t StatusKib(const char* key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(key)) return std::stoll(line.substr(std::string_view(key).size()));
  }
  return -1;
}

// Runs in the child: one job per source named in the environment, writing "<name> <KiB>" lines:
// the rise of the peak resident set (VmHWM) above the resident set before the job.
TEST(ImageResizeMemoryChild, MeasurePeak) {
  const char* spec = std::getenv(kMemoryChildEnv);
  if (spec == nullptr) GTEST_SKIP() << "runs only as the child of MemoryStaysBounded";
  std::istringstream in(spec);
  std::string root, out_dir, report;
  in >> root >> out_dir >> report;
  ImageResizeOptions options;
  options.input_root = root;
  options.output_dir = out_dir;
  const Handler handler = MakeImageResizeHandler(options);
  std::ofstream lines(report);
  for (const char* name : {"big.jpg", "big.png"}) {
    const json::array outputs = {
        Output(1200, 800, "cover", "jpeg", std::string(name) + ".cover.jpg"),
        Output(3000, 3000, "inside", "webp", std::string(name) + ".inside.webp"),
        Output(2000, 2000, "contain", "png", std::string(name) + ".contain.png")};
    FakeJobContext ctx("job",
                       json::serialize(json::object{{"source", (fs::path(root) / name).string()},
                                                    {"outputs", outputs}}));
    std::ofstream("/proc/self/clear_refs") << "5";  // resets VmHWM to the current RSS
    const int64_t before = StatusKib("VmRSS:");
    const HandlerResult result = handler(ctx);
    ASSERT_EQ(result.kind, Kind::kSuccess) << result.message;
    lines << name << " " << StatusKib("VmHWM:") - before << "\n";
  }
}

TEST_F(ImageResizeTest, MemoryStaysBoundedFor24MegapixelSources) {
  Source("big.jpg", 6000, 4000);
  Source("big.png", 6000, 4000);
  const std::string report = (fs::path(dir_.path()) / "memory.txt").string();
  const std::string spec = input_root().string() + " " + output_dir().string() + " " + report;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv(kMemoryChildEnv, spec.c_str(), 1);
    ::execl("/proc/self/exe", "image_resize_memory_child",
            "--gtest_filter=ImageResizeMemoryChild.MeasurePeak", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  std::istringstream lines(ReadFile(report));
  int measured = 0;
  for (std::string name; lines >> name;) {
    int64_t kib = 0;
    lines >> kib;
    ++measured;
    std::cout << "image-resize peak RSS rise for a 6000x4000 " << name << ": " << kib / 1024
              << " MiB\n";
    RecordProperty(name + "_peak_rss_kib", std::to_string(kib));
#if !defined(__SANITIZE_ADDRESS__)
    // Decoded whole, one such image is 72 MB (RGB), and each output more again.
    EXPECT_LT(kib, kMemoryBoundKib) << name;
#endif
  }
  EXPECT_EQ(measured, 2);
}

}  // namespace
}  // namespace taskq::handlers
