#include "handlers/image_resize.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>
#include <vips/vips8>

#include "handlers/address_guard.h"
#include "handlers/data_fields.h"
#include "handlers/http_target.h"
#include "handlers/image_resize_data.h"
#include "handlers/rooted_file.h"

namespace taskq::handlers {
namespace json = boost::json;
namespace {

constexpr std::string_view kUserAgent = "taskq-image-resize/0.1";

// ----------------------------------------------------------------------------------------------
// Files, reached without following symlinks, so that neither a source nor an output can leave
// its directory through a link placed inside it.

// An unnamed scratch file in `dir`: created, then unlinked at once, so that nothing is left
// behind whatever happens to the process.
Result<UniqueFd> CreateScratchFile(int dir) {
  const std::string name = TemporaryName("download");
  UniqueFd fd(
      ::openat(dir, name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return Unavailable("cannot create a scratch file: " + ErrnoText(errno));
  ::unlinkat(dir, name.c_str(), 0);
  return fd;
}

// ----------------------------------------------------------------------------------------------
// URL sources

struct Download {
  int fd = -1;
  size_t bytes = 0;
  size_t max_bytes = 0;
  bool too_big = false;
  int write_error = 0;
};

// Writes to the scratch file; one byte past the cap aborts the transfer (CURLE_WRITE_ERROR).
size_t OnSourceBytes(char* data, size_t size, size_t count, void* user) {
  auto* download = static_cast<Download*>(user);
  const size_t n = size * count;
  if (n > download->max_bytes - download->bytes) {
    download->too_big = true;
    return 0;
  }
  for (size_t done = 0; done < n;) {
    const ssize_t written = ::write(download->fd, data + done, n - done);
    if (written < 0) {
      if (errno == EINTR) continue;
      download->write_error = errno;
      return 0;
    }
    done += static_cast<size_t>(written);
  }
  download->bytes += n;
  return n;
}

int AbortWhenStopped(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<JobContext*>(user)->stop_requested() ? 1 : 0;
}

// Downloads the source into `scratch`: one GET to the address the guard checked, no redirects.
Status Fetch(const std::string& url, const AddressGuard& guard, const ImageResizeOptions& options,
             int scratch, JobContext& ctx) {
  Result<HttpTarget> target = ParseHttpTarget(url, nullptr, "data.source");
  if (!target.ok()) return target.status();
  if (Status port = CheckPort(*target, options.allowed_ports, "data.source", "--image-ports");
      !port.ok()) {
    return InvalidArgument("data.source", "refused: " + port.message());
  }
  Result<IpAddress> address = guard.Resolve(target->host);
  if (!address.ok()) {
    if (address.status().code() == StatusCode::kInvalidArgument) {
      return InvalidArgument("data.source", "refused: " + address.status().message());
    }
    return Unavailable("data.source: " + address.status().message());
  }
  const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
      ctx.deadline() - std::chrono::steady_clock::now());
  const auto timeout = std::min(options.fetch_timeout, remaining);
  if (timeout.count() <= 0) return Status(StatusCode::kDeadlineExceeded, "no time left to fetch");

  CurlEasy curl(curl_easy_init());
  if (!curl) return Unavailable("curl_easy_init failed");
  CURL* c = curl.get();
  CurlSlist connect_to;
  Download download{scratch, 0, options.max_source_bytes};
  char error_buffer[CURL_ERROR_SIZE] = {};
  CURLcode rc = PinToCheckedAddress(c, *target, *address, connect_to);
  auto set = [&](CURLoption option, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(c, option, value);
  };
  set(CURLOPT_ERRORBUFFER, error_buffer);
  set(CURLOPT_HTTPGET, 1L);
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  set(CURLOPT_USERAGENT, std::string(kUserAgent).c_str());
  // A Content-Length above the cap stops the transfer before the body; the write callback
  // enforces the cap when there is none.
  set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_source_bytes));
  set(CURLOPT_WRITEFUNCTION, &OnSourceBytes);
  set(CURLOPT_WRITEDATA, static_cast<void*>(&download));
  set(CURLOPT_NOPROGRESS, 0L);
  set(CURLOPT_XFERINFOFUNCTION, &AbortWhenStopped);
  set(CURLOPT_XFERINFODATA, static_cast<void*>(&ctx));
  if (rc == CURLE_OK) rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  const std::string where = "data.source: GET " + target->text;
  const std::string error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
  if (download.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
    return Status(StatusCode::kResourceExhausted,
                  where + ": larger than " + std::to_string(options.max_source_bytes) + " bytes");
  }
  if (download.write_error != 0) {
    return Unavailable(where + ": writing the download: " + ErrnoText(download.write_error));
  }
  switch (rc) {
    case CURLE_OK:
      break;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      return InvalidArgument("data.source", error);
    case CURLE_OPERATION_TIMEDOUT:
      return Status(StatusCode::kDeadlineExceeded, where + ": " + error);
    default:
      // Refused or reset connections, TLS failures, a server that closed early: all may pass.
      return Unavailable(where + ": " + error);
  }
  ctx.Log("image-resize GET " + target->text + " via " + address->ToString() + ": " +
          std::to_string(status) + ", " + std::to_string(download.bytes) + " bytes");
  if (status == 200) return Status::Ok();
  const std::string answered = where + " answered " + std::to_string(status);
  if (status == 408 || status == 429 || (status >= 500 && status < 600)) {
    return Unavailable(answered);
  }
  if (status >= 300 && status < 400) {
    return InvalidArgument("data.source", answered + " (redirects are not followed)");
  }
  return Status(StatusCode::kFailedPrecondition, answered);
}

// ----------------------------------------------------------------------------------------------
// libvips

// libvips is set up once per process. Its operation cache is off: every job reads a different
// image, and cached operations would hold their pixels and open files after the job. One thread
// per pipeline keeps a job's memory and CPU to what one worker slot should take; jobs run in
// parallel on the handler threads instead.
Status InitVips() {
  static std::once_flag once;
  static Status status;
  std::call_once(once, [] {
    if (VIPS_INIT("taskq") != 0) {
      status = Internal(std::string("libvips failed to initialise: ") + vips_error_buffer());
      return;
    }
    vips_cache_set_max(0);
    vips_concurrency_set(1);
    // Loaders libvips marks untrusted (ImageMagick, PDF, SVG, MATLAB, FITS, ...) are not meant
    // for images from strangers; nor is the text matrix format, which no image is sent in. What
    // remains: JPEG, PNG, WebP, GIF, TIFF and HEIF.
    vips_block_untrusted_set(TRUE);
    vips_operation_block_set("VipsForeignLoadMatrix", TRUE);
  });
  return status;
}

// The message of a libvips error, on one line. VError copies libvips' error buffer without
// clearing it, so it is cleared here, or the next job's error would repeat this one. The buffer is
// one per process: a job failing at the same moment as another may see both messages.
std::string VipsMessage(const vips::VError& e) {
  vips_error_clear();
  std::string text = e.what();
  if (text.empty()) text = "libvips gave no reason";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return text;
}

// What `header`'s source takes decoded when its loader cannot stream it: the whole frame, each
// sample at its own depth, and a progressive JPEG's coefficients at 2 bytes. `bytes` 0: it streams
// (baseline JPEG, non-interlaced PNG). TIFF counts as whole: one strip or tile may be the image.
struct WholeDecode {
  int64_t bytes = 0;
  std::string how;  // "pngload, interlaced"
};

WholeDecode WholeDecodeOf(const vips::VImage& header) {
  std::string loader = header.get_typeof("vips-loader") != 0 ? header.get_string("vips-loader")
                                                             : std::string("unknown loader");
  if (loader.ends_with("_source")) loader.resize(loader.size() - 7);  // "pngload_source"
  const bool interlaced = header.get_typeof("interlaced") != 0 && header.get_int("interlaced") != 0;
  const bool jpeg = loader.starts_with("jpegload"), png = loader.starts_with("pngload");
  if ((jpeg || png) && !interlaced) return {};
  int64_t sample_bytes = static_cast<int64_t>(vips_format_sizeof(header.format()));
  if (jpeg) sample_bytes = std::max<int64_t>(sample_bytes, 2);
  // GIF frames are decoded into RGBA whatever the header says.
  const int64_t bands = loader.starts_with("gifload") ? 4 : header.bands();
  return {int64_t{header.width()} * header.height() * bands * sample_bytes,
          interlaced ? loader + ", interlaced" : loader};
}

// The largest sample value: what opaque alpha and white are.
double MaxSample(const vips::VImage& image) {
  const VipsInterpretation interpretation = image.interpretation();
  return interpretation == VIPS_INTERPRETATION_RGB16 || interpretation == VIPS_INTERPRETATION_GREY16
             ? 65535.0
             : 255.0;
}

// Throws vips::VError. The loader streams the file (shrinking on load where the format allows),
// so a job holds a few scanlines, not the decoded image.
vips::VImage Resize(const vips::VSource& source, const OutputSpec& spec) {
  vips::VOption* options = vips::VImage::option()
                               ->set("height", spec.height)
                               // A truncated JPEG is only a decoder warning: without this it
                               // would be saved with its missing part grey. thumbnail_source in
                               // 8.14 ignores its own fail_on; the loader's options reach it.
                               ->set("option_string", "fail_on=warning");
  switch (spec.fit) {
    case Fit::kCover:
      options->set("size", VIPS_SIZE_BOTH)->set("crop", VIPS_INTERESTING_CENTRE);
      break;
    case Fit::kContain:
      options->set("size", VIPS_SIZE_BOTH);
      break;
    case Fit::kFill:
      options->set("size", VIPS_SIZE_FORCE);
      break;
    case Fit::kInside:
      options->set("size", VIPS_SIZE_DOWN);
      break;
  }
  vips::VImage image = vips::VImage::thumbnail_source(source, spec.width, options);
  const double max = MaxSample(image);
  if (spec.fit == Fit::kContain && (image.width() != spec.width || image.height() != spec.height)) {
    // JPEG has no transparency: pad with white there, with transparent pixels elsewhere.
    std::vector<double> background = {max};
    if (spec.format != Format::kJpeg) {
      if (!image.has_alpha()) image = image.bandjoin_const({max});
      background = {0};
    }
    image = image.embed((spec.width - image.width()) / 2, (spec.height - image.height()) / 2,
                        spec.width, spec.height,
                        vips::VImage::option()
                            ->set("extend", VIPS_EXTEND_BACKGROUND)
                            ->set("background", background));
  }
  if (spec.format == Format::kJpeg && image.has_alpha()) {
    image = image.flatten(vips::VImage::option()->set("background", std::vector<double>{max}));
  }
  return image;
}

// The savers' own `strip` is not enough: webpsave in libvips 8.14 ignores it and writes EXIF and
// XMP anyway (libvips/libvips#3340). So the metadata is removed from the header first, in a
// private copy since the header is shared with the pipeline.
vips::VImage WithoutMetadata(const vips::VImage& image) {
  vips::VImage copy = image.copy();
  gchar** fields = vips_image_get_fields(copy.get_image());
  for (gchar** field = fields; *field != nullptr; ++field) {
    const std::string_view name(*field);
    if (name == "exif-data" || name == "xmp-data" || name == "iptc-data" ||
        name == "icc-profile-data" || name == "orientation" || name.starts_with("exif-") ||
        name.starts_with("png-comment-")) {
      copy.remove(*field);
    }
  }
  g_strfreev(fields);
  return copy;
}

// Throws vips::VError.
void Save(const vips::VImage& resized, const OutputSpec& spec, bool keep_metadata, int fd) {
  const vips::VImage image = keep_metadata ? resized : WithoutMetadata(resized);
  vips::VTarget target = vips::VTarget::new_to_descriptor(fd);
  vips::VOption* options = vips::VImage::option()->set("strip", !keep_metadata);
  switch (spec.format) {
    case Format::kJpeg:
      image.jpegsave_target(target, options->set("Q", spec.quality));
      break;
    case Format::kPng:
      // Lossless: quality does not apply.
      image.pngsave_target(target, options);
      break;
    case Format::kWebp:
      image.webpsave_target(target, options->set("Q", spec.quality));
      break;
  }
}

struct OutputResult {
  int width = 0;
  int height = 0;
  int64_t bytes = 0;
};

// Renders one output into a temporary file beside its final name, then renames it there, so that
// a reader never sees half an image. A failure leaves no temporary file behind.
Result<OutputResult> WriteOutput(const vips::VSource& source, const OutputSpec& spec,
                                 bool keep_metadata, int output_root, const std::string& field) {
  std::vector<std::string> dirs = spec.components;
  const std::string name = dirs.back();
  dirs.pop_back();
  Result<UniqueFd> dir = OpenDirectoriesBelow(output_root, dirs, true, field + ".path", spec.path);
  if (!dir.ok()) return dir.status();
  const std::string temporary = TemporaryName(name);
  UniqueFd fd(::openat(dir->get(), temporary.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (fd.get() < 0) {
    return Unavailable(spec.path + ": cannot create a temporary file: " + ErrnoText(errno));
  }
  auto discard = [&] { ::unlinkat(dir->get(), temporary.c_str(), 0); };

  OutputResult out;
  try {
    const vips::VImage image = Resize(source, spec);
    out.width = image.width();
    out.height = image.height();
    Save(image, spec, keep_metadata, fd.get());
  } catch (const vips::VError& e) {
    discard();
    // The decoding happens here, while saving: a truncated or corrupt image shows up now.
    return Status(StatusCode::kFailedPrecondition,
                  field + ": cannot convert the image: " + VipsMessage(e));
  }
  struct stat st {};
  if (::fsync(fd.get()) != 0 || ::fstat(fd.get(), &st) != 0) {
    const int error = errno;
    discard();
    return Unavailable(spec.path + ": writing the output: " + ErrnoText(error));
  }
  out.bytes = st.st_size;
  if (::renameat(dir->get(), temporary.c_str(), dir->get(), name.c_str()) != 0) {
    const int error = errno;
    discard();
    if (error == EISDIR || error == ENOTEMPTY || error == EEXIST) {
      return InvalidArgument(field + ".path", spec.path + " is a directory");
    }
    return Unavailable(spec.path + ": " + ErrnoText(error));
  }
  return out;
}

// ----------------------------------------------------------------------------------------------
// Running a job

struct ImageResizer {
  ImageResizeOptions options;
  std::optional<AddressGuard> guard;  // unset: the options are invalid
  Status config;                      // why the options (or libvips) cannot work
};

Result<UniqueFd> OpenSource(const ImageResizer& resizer, const ImageResizeData& data,
                            int output_root, JobContext& ctx) {
  if (!data.source_is_url) {
    return OpenRegularFileBelow(resizer.options.input_root, data.source, "data.source");
  }
  Result<UniqueFd> scratch = CreateScratchFile(output_root);
  if (!scratch.ok()) return scratch.status();
  TASKQ_RETURN_IF_ERROR(Fetch(data.source, *resizer.guard, resizer.options, scratch->get(), ctx));
  if (::lseek(scratch->get(), 0, SEEK_SET) != 0) return Unavailable("lseek: " + ErrnoText(errno));
  return scratch;
}

HandlerResult RunImageResizeJob(const ImageResizer& resizer, JobContext& ctx) {
  if (!resizer.config.ok()) {
    return HandlerResult::Fail("image-resize: configuration error: " + resizer.config.ToString());
  }
  const ImageResizeOptions& options = resizer.options;
  Result<ImageResizeData> data = ParseImageResizeData(ctx.data_json(), options);
  if (!data.ok()) return ResultFromStatus(data.status(), "image-resize: ");

  std::error_code ec;
  std::filesystem::create_directories(options.output_dir, ec);
  UniqueFd output_root(::open(options.output_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (output_root.get() < 0) {
    return HandlerResult::Retry("image-resize: the output directory " + options.output_dir +
                                " cannot be opened: " + ErrnoText(errno));
  }
  Result<UniqueFd> file = OpenSource(resizer, *data, output_root.get(), ctx);
  if (!file.ok()) return ResultFromStatus(file.status(), "image-resize: ");
  struct stat st {};
  if (::fstat(file->get(), &st) != 0) {
    return HandlerResult::Retry("image-resize: fstat: " + ErrnoText(errno));
  }
  if (static_cast<uint64_t>(st.st_size) > options.max_source_bytes) {
    return HandlerResult::Fail("image-resize: data.source: larger than " +
                               std::to_string(options.max_source_bytes) + " bytes");
  }

  json::array results;
  try {
    const vips::VSource source = vips::VSource::new_from_descriptor(file->get());
    // Only the header is read here: the size check comes before any pixel is decoded.
    const vips::VImage header = vips::VImage::new_from_source(
        source, "", vips::VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL));
    const int64_t pixels = int64_t{header.width()} * header.height();
    if (pixels > options.max_pixels) {
      return HandlerResult::Fail("image-resize: data.source: " + std::to_string(header.width()) +
                                 "x" + std::to_string(header.height()) + " is " +
                                 std::to_string(pixels) + " pixels, more than the limit of " +
                                 std::to_string(options.max_pixels));
    }
    if (const WholeDecode whole = WholeDecodeOf(header); whole.bytes > options.max_decode_bytes) {
      return HandlerResult::Fail(
          "image-resize: data.source: " + std::to_string(header.width()) + "x" +
          std::to_string(header.height()) + " with " + std::to_string(header.bands()) +
          " band(s) is decoded whole (" + whole.how + "): " + std::to_string(whole.bytes) +
          " bytes, more than the budget of " + std::to_string(options.max_decode_bytes));
    }
    for (size_t i = 0; i < data->outputs.size(); ++i) {
      if (ctx.stop_requested()) return HandlerResult::Retry("image-resize: stopped");
      const OutputSpec& spec = data->outputs[i];
      const std::string field = "data.outputs[" + std::to_string(i) + "]";
      Result<OutputResult> written =
          WriteOutput(source, spec, data->keep_metadata, output_root.get(), field);
      if (!written.ok()) return ResultFromStatus(written.status(), "image-resize: ");
      results.push_back(json::object{{"path", spec.path},
                                     {"width", written->width},
                                     {"height", written->height},
                                     {"bytes", written->bytes},
                                     {"format", FormatName(spec.format)}});
      ctx.SetProgress(
          json::serialize(json::object{{"done", i + 1}, {"total", data->outputs.size()}}));
    }
    json::object result;
    result["source"] = json::object{{"width", header.width()}, {"height", header.height()}};
    result["outputs"] = std::move(results);
    return HandlerResult::Success(json::serialize(result));
  } catch (const vips::VError& e) {
    return HandlerResult::Fail("image-resize: data.source: not a supported image: " +
                               VipsMessage(e));
  }
}

}  // namespace

Status ValidateImageResizeOptions(const ImageResizeOptions& options) {
  if (Result<AddressGuard> guard = AddressGuard::Create(options.allow_cidrs); !guard.ok()) {
    return InvalidArgument("allow_cidrs", guard.status().message());
  }
  TASKQ_RETURN_IF_ERROR(ValidatePorts(options.allowed_ports, "allowed_ports"));
  if (options.input_root.empty()) return InvalidArgument("input_root", "is required");
  if (options.output_dir.empty()) return InvalidArgument("output_dir", "is required");
  if (options.max_source_bytes < 1) return InvalidArgument("max_source_bytes", "must be positive");
  if (options.max_pixels < 1) return InvalidArgument("max_pixels", "must be positive");
  if (options.max_decode_bytes < 1) {
    return InvalidArgument("max_decode_bytes", "must be positive");
  }
  if (options.max_outputs < 1) return InvalidArgument("max_outputs", "must be positive");
  if (options.max_dimension < 1) return InvalidArgument("max_dimension", "must be positive");
  if (options.fetch_timeout.count() < 1) {
    return InvalidArgument("fetch_timeout", "must be positive");
  }
  return Status::Ok();
}

Status ValidateImageResizeData(std::string_view data_json) {
  return ParseImageResizeData(data_json, ImageResizeOptions{}).status();
}

Handler MakeImageResizeHandler(ImageResizeOptions options) {
  InitCurlOnce();
  auto resizer = std::make_shared<ImageResizer>();
  resizer->config = ValidateImageResizeOptions(options);
  if (resizer->config.ok()) resizer->config = InitVips();
  if (resizer->config.ok()) resizer->guard = *AddressGuard::Create(options.allow_cidrs);
  resizer->options = std::move(options);
  // Shared, not copied per call: std::function copies the lambda, and the state is immutable.
  return [resizer = std::shared_ptr<const ImageResizer>(std::move(resizer))](JobContext& ctx) {
    return RunImageResizeJob(*resizer, ctx);
  };
}

}  // namespace taskq::handlers
