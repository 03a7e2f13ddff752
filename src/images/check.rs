//! Downloaded bytes → what to store, or why not. This owns the image limits:
//! the type comes from the bytes' signature alone (never the URL or a
//! Content-Type), the pixel size from the header alone, and nothing is
//! decoded until that size has been found within [`ImageLimits`] — so a
//! decompression bomb costs a header read. Only images wider than
//! `max_width` are decoded at all, to be downscaled; SVG is never decoded.
//!
//! Decisions a caller may notice:
//! - An image that needs no downscaling is stored as downloaded, without a
//!   full decode: one whose header reads but whose body is truncated is
//!   stored, and the viewer, which must cope with unreadable files anyway,
//!   says it cannot show it. A header that cannot be read is `Damaged`.
//! - A downscaled GIF becomes a PNG of its first frame; a downscaled WebP is
//!   re-encoded as lossless WebP (the `image` crate cannot encode lossy
//!   WebP; lossless is still smaller than PNG); JPEG at quality 85.
//! - A downscaled image has its EXIF orientation applied, since re-encoding
//!   drops the EXIF block that would have told the viewer.

use std::io::Cursor;
use std::time::Instant;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::codecs::webp::WebPEncoder;
use image::imageops::FilterType;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader};
use quick_xml::events::{BytesStart, Event};

use super::{DEFAULT_MAX_WIDTH, ImageKind};

/// Limits for checking and storing.
#[derive(Debug, Clone, Copy)]
pub struct ImageLimits {
    /// Wider images are downscaled to this width.
    pub max_width: u32,
    /// Images of more pixels are refused.
    pub max_pixels: u64,
    /// Images wider or taller than this are refused.
    pub max_side: u32,
}

impl Default for ImageLimits {
    fn default() -> ImageLimits {
        ImageLimits {
            max_width: DEFAULT_MAX_WIDTH,
            max_pixels: 50_000_000,
            max_side: 20_000,
        }
    }
}

/// What to store for a downloaded image.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The kind of the stored bytes, which is the source's, except that a
    /// downscaled GIF is stored as PNG.
    pub kind: ImageKind,
    /// What to write to disk: the downloaded bytes when no conversion was needed.
    pub bytes: Vec<u8>,
    /// The source's pixel size (SVG: from its `width` and `height`, or its
    /// `viewBox`; 0 when it gives neither).
    pub width: u32,
    pub height: u32,
    /// The stored image's pixel size: the source's unless downscaled.
    pub stored_width: u32,
    pub stored_height: u32,
    /// Time spent checking and converting.
    pub convert_ms: u64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refused {
    #[error("not an image (no PNG, JPEG, GIF, WebP or SVG signature)")]
    NotAnImage,
    #[error("{width}×{height} pixels is over the limit")]
    TooManyPixels { width: u32, height: u32 },
    #[error("cannot read the image: {0}")]
    Damaged(String),
}

const JPEG_QUALITY: u8 = 85;

/// The most memory a decoded pixel takes (16-bit RGBA): with `max_pixels`,
/// the cap on what a decoder may allocate.
const MAX_BYTES_PER_PIXEL: u64 = 8;

/// The type from the bytes' signature. SVG: text whose first element is
/// `<svg>`, after an optional BOM, XML declaration, comments, doctype and
/// white space.
pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
    match bytes {
        [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n', ..] => Some(ImageKind::Png),
        [0xff, 0xd8, 0xff, ..] => Some(ImageKind::Jpeg),
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(ImageKind::Gif),
        [b'R', b'I', b'F', b'F', _, _, _, _, rest @ ..] if rest.starts_with(b"WEBP") => {
            Some(ImageKind::Webp)
        }
        _ if svg_root(bytes).is_some() => Some(ImageKind::Svg),
        _ => None,
    }
}

/// Sniffs, reads the pixel size from the header, refuses images over the
/// limits, and downscales those wider than `max_width`, keeping the aspect
/// ratio. See the module docs for what is re-encoded how.
pub fn check(bytes: &[u8], limits: &ImageLimits) -> Result<Checked, Refused> {
    let started = Instant::now();
    let kind = sniff(bytes).ok_or(Refused::NotAnImage)?;
    let mut checked = match kind.image_format() {
        Some(format) => check_raster(bytes, kind, format, limits)?,
        None => {
            let (width, height) = svg_root(bytes)
                .map(|root| svg_size(&root))
                .unwrap_or_default();
            stored_as_is(bytes, kind, width, height)
        }
    };
    checked.convert_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(checked)
}

impl ImageKind {
    /// The `image` crate's format; SVG has none, as it is never decoded.
    fn image_format(self) -> Option<ImageFormat> {
        match self {
            ImageKind::Png => Some(ImageFormat::Png),
            ImageKind::Jpeg => Some(ImageFormat::Jpeg),
            ImageKind::Gif => Some(ImageFormat::Gif),
            ImageKind::Webp => Some(ImageFormat::WebP),
            ImageKind::Svg => None,
        }
    }
}

fn check_raster(
    bytes: &[u8],
    kind: ImageKind,
    format: ImageFormat,
    limits: &ImageLimits,
) -> Result<Checked, Refused> {
    let (width, height) = reader(bytes, format, limits)
        .into_dimensions()
        .map_err(|e| Refused::Damaged(e.to_string()))?;
    if width == 0 || height == 0 {
        return Err(Refused::Damaged(format!("{width}×{height} pixels")));
    }
    if width > limits.max_side
        || height > limits.max_side
        || u64::from(width) * u64::from(height) > limits.max_pixels
    {
        return Err(Refused::TooManyPixels { width, height });
    }
    if width <= limits.max_width {
        return Ok(stored_as_is(bytes, kind, width, height));
    }
    let refusal = |error: ImageError| match error {
        ImageError::Limits(_) => Refused::TooManyPixels { width, height },
        other => Refused::Damaged(other.to_string()),
    };
    let mut decoder = reader(bytes, format, limits)
        .into_decoder()
        .map_err(refusal)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(refusal)?;
    image.apply_orientation(orientation);
    // A quarter turn may have made it narrow enough already.
    if image.width() > limits.max_width {
        let height = scaled_height(image.width(), image.height(), limits.max_width);
        image = image.resize_exact(limits.max_width, height, FilterType::Triangle);
    }
    let stored_kind = match kind {
        ImageKind::Gif => ImageKind::Png,
        other => other,
    };
    let (stored_width, stored_height) = (image.width(), image.height());
    let bytes = encode(image, stored_kind)
        .map_err(|e| Refused::Damaged(format!("re-encoding failed: {e}")))?;
    Ok(Checked {
        kind: stored_kind,
        bytes,
        width,
        height,
        stored_width,
        stored_height,
        convert_ms: 0,
    })
}

fn stored_as_is(bytes: &[u8], kind: ImageKind, width: u32, height: u32) -> Checked {
    Checked {
        kind,
        bytes: bytes.to_vec(),
        width,
        height,
        stored_width: width,
        stored_height: height,
        convert_ms: 0,
    }
}

/// A reader of the sniffed format (never guessed again) whose decoder may
/// allocate no more than `max_pixels` pixels need. The pixel and side limits
/// themselves are checked by [`check_raster`] between the header and the decode,
/// so that a refusal can say the size.
fn reader<'a>(
    bytes: &'a [u8],
    format: ImageFormat,
    limits: &ImageLimits,
) -> ImageReader<Cursor<&'a [u8]>> {
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_alloc = Some(limits.max_pixels.saturating_mul(MAX_BYTES_PER_PIXEL));
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decoder_limits);
    reader
}

/// The height that keeps the aspect ratio at `new_width`, rounded, at least 1.
fn scaled_height(width: u32, height: u32, new_width: u32) -> u32 {
    let scaled =
        (u64::from(height) * u64::from(new_width) + u64::from(width) / 2) / u64::from(width);
    u32::try_from(scaled.max(1)).unwrap_or(u32::MAX)
}

fn encode(image: DynamicImage, kind: ImageKind) -> Result<Vec<u8>, ImageError> {
    let mut out = Vec::new();
    match kind {
        ImageKind::Jpeg => DynamicImage::ImageRgb8(image.into_rgb8())
            .write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY))?,
        // The WebP encoder takes 8-bit RGB or RGBA only.
        ImageKind::Webp if image.color().has_alpha() => {
            DynamicImage::ImageRgba8(image.into_rgba8())
                .write_with_encoder(WebPEncoder::new_lossless(&mut out))?
        }
        ImageKind::Webp => DynamicImage::ImageRgb8(image.into_rgb8())
            .write_with_encoder(WebPEncoder::new_lossless(&mut out))?,
        ImageKind::Png | ImageKind::Gif | ImageKind::Svg => {
            image.write_with_encoder(PngEncoder::new(&mut out))?
        }
    }
    Ok(out)
}

/// The root element of an SVG document: the first element, when only a BOM,
/// white space, an XML declaration, comments, processing instructions and a
/// doctype come before it, and it is `<svg>`.
fn svg_root(bytes: &[u8]) -> Option<BytesStart<'_>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut reader = quick_xml::Reader::from_reader(bytes);
    loop {
        match reader.read_event().ok()? {
            Event::Decl(_) | Event::Comment(_) | Event::DocType(_) | Event::PI(_) => {}
            Event::Text(text) if text.trim().is_empty() => {}
            Event::Start(root) | Event::Empty(root) => {
                return (root.local_name().as_ref() == "svg").then_some(root);
            }
            _ => return None,
        }
    }
}

/// The size an SVG declares: its `width` and `height` when both are plain
/// numbers (or pixels), else its `viewBox`'s, else 0×0.
fn svg_size(root: &BytesStart) -> (u32, u32) {
    let (mut width, mut height, mut view_box) = (None, None, None);
    for attr in root.attributes().flatten() {
        let value = &attr.value;
        match attr.key.local_name().as_ref() {
            "width" => width = svg_length(value),
            "height" => height = svg_length(value),
            "viewBox" => view_box = view_box_size(value),
            _ => {}
        }
    }
    match (width, height) {
        (Some(width), Some(height)) => (width, height),
        _ => view_box.unwrap_or_default(),
    }
}

/// A length in pixels: a positive number, optionally followed by `px`.
/// Other units (`%`, `em`, `mm` …) say nothing about pixels.
fn svg_length(text: &str) -> Option<u32> {
    let number = text.trim().trim_end_matches("px").trim_end();
    to_pixels(number.parse().ok()?)
}

/// The width and height of `min-x min-y width height`.
fn view_box_size(text: &str) -> Option<(u32, u32)> {
    let numbers: Vec<f64> = text
        .split(|c: char| c.is_ascii_whitespace() || c == ',')
        .filter(|part| !part.is_empty())
        .map(|part| part.parse().ok())
        .collect::<Option<_>>()?;
    match numbers[..] {
        [_, _, width, height] => Some((to_pixels(width)?, to_pixels(height)?)),
        _ => None,
    }
}

fn to_pixels(number: f64) -> Option<u32> {
    // `as` saturates: a huge declared size is recorded as u32::MAX, never decoded.
    (number.is_finite() && number > 0.0).then(|| number.round().max(1.0) as u32)
}
