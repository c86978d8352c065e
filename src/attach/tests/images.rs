//! Images by path, https URL and data URI: the type comes from the bytes, and each limit holds.

use super::*;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF";
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00";
const WEBP: &[u8] = b"RIFF\x24\x00\x00\x00WEBPVP8 ";

fn images(items: &[&str], roots: &Roots) -> Result<Vec<Attachment>, AttachError> {
    read_images(&strings(items), roots, &Limits::default())
}

fn data(mime: &str, bytes: &[u8]) -> String {
    format!("data:{mime};base64,{}", STANDARD.encode(bytes))
}

#[test]
fn an_image_file_is_sent_as_a_data_uri_typed_from_its_bytes() {
    let (dir, roots) = root();
    write(dir.path(), "shot.jpg", PNG);
    let got = images(&["shot.jpg"], &roots).unwrap();
    assert_eq!(
        got,
        vec![Attachment::Image {
            source: "shot.jpg".into(),
            url: data("image/png", PNG),
            mime: Some("image/png"),
        }]
    );
    assert_eq!(got[0].part()["image_url"]["url"], data("image/png", PNG));
}

#[test]
fn https_urls_are_kept_and_data_uris_of_each_type_pass() {
    let roots = Roots::default();
    let url = "https://example.com/cat.webp?size=2";
    let got = images(&[url], &roots).unwrap();
    assert!(matches!(&got[0], Attachment::Image { url: u, mime: None, .. } if u == url));
    for (mime, bytes) in [
        ("image/png", PNG),
        ("image/jpeg", JPEG),
        ("image/gif", GIF),
        ("image/webp", WEBP),
    ] {
        let got = images(&[&data(mime, bytes)], &roots).unwrap();
        assert!(
            matches!(&got[0], Attachment::Image { mime: Some(m), .. } if *m == mime),
            "{mime}"
        );
    }
    let got = images(&[&data("image/jpg", JPEG)], &roots).unwrap();
    assert!(
        matches!(&got[0], Attachment::Image { url, .. } if url.starts_with("data:image/jpeg;base64,"))
    );
}

#[test]
fn a_file_that_is_not_an_image_is_refused_whatever_its_name() {
    let (dir, roots) = root();
    write(dir.path(), "logo.png", "just text");
    let err = images(&["logo.png"], &roots).unwrap_err().to_string();
    assert_eq!(err, "logo.png: is not a PNG, JPEG, WebP or GIF image");
    let err = images(&[&data("image/png", b"<svg/>")], &roots)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is not a PNG, JPEG, WebP or GIF image"),
        "{err}"
    );
}

#[test]
fn a_data_uri_whose_bytes_are_another_type_is_refused() {
    let err = images(&[&data("image/png", GIF)], &Roots::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "data: URI: says image/png but the bytes are image/gif; fix the data: URI's MIME type"
    );
}

#[test]
fn a_data_uri_over_the_limit_is_refused_before_decoding() {
    let payload = "A".repeat(8 * 1024 * 1024);
    let uri = format!("data:image/png;base64,{payload}");
    let err = images(&[&uri], &Roots::default()).unwrap_err().to_string();
    assert_eq!(
        err,
        "data: URI of 6291456 bytes, over the limit of 5242880 bytes per image; send a smaller image or an https:// URL"
    );
}

#[test]
fn malformed_data_uris_other_schemes_and_too_many_images_are_refused() {
    let roots = Roots::default();
    for (uri, expected) in [
        ("data:image/png,rawbytes", "not base64-encoded"),
        ("data:image/png;base64", "no comma"),
        ("data:image/png;base64,!!!!", "not valid base64"),
        ("http://example.com/a.png", "only https:// URLs"),
        ("file:///etc/passwd", "only https:// URLs"),
    ] {
        let err = images(&[uri], &roots).unwrap_err().to_string();
        assert!(err.contains(expected), "{uri}: {err}");
    }
    let many: Vec<String> = (0..21)
        .map(|i| format!("https://example.com/{i}.png"))
        .collect();
    let err = read_images(&many, &roots, &Limits::default())
        .unwrap_err()
        .to_string();
    assert_eq!(err, "21 images, over the limit of 20; attach fewer images");
    let err = images(&["pic.png"], &roots).unwrap_err().to_string();
    assert!(err.contains("no file roots"), "{err}");
}

#[test]
fn an_oversized_image_file_is_refused() {
    let (dir, roots) = root();
    let file = fs::File::create(dir.path().join("big.png")).unwrap();
    file.set_len(DEFAULT_MAX_IMAGE_BYTES + 1).unwrap();
    let err = images(&["big.png"], &roots).unwrap_err().to_string();
    assert!(
        err.starts_with("big.png: is 5242881 bytes, over the limit of 5242880 bytes per image"),
        "{err}"
    );
}
