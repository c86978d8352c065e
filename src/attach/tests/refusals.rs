//! Every refusal of done-means 2, each an error naming the path (or the limit and the fix).

use super::*;

fn refused(items: &[&str], roots: &Roots, limits: &Limits) -> String {
    read_files(&strings(items), roots, limits)
        .unwrap_err()
        .to_string()
}

#[test]
fn a_path_outside_the_roots_is_refused_with_its_name() {
    let (_dir, roots) = root();
    let other = tempfile::tempdir().unwrap();
    let outside = write(other.path(), "secret.txt", "nope")
        .to_string_lossy()
        .into_owned();
    let err = refused(&[&outside], &roots, &Limits::default());
    assert!(
        err.starts_with(&outside) && err.contains("outside the file roots"),
        "{err}"
    );
}

#[test]
fn a_symlink_inside_a_root_that_leads_out_is_refused() {
    let (dir, roots) = root();
    let other = tempfile::tempdir().unwrap();
    write(other.path(), "id_rsa", "key");
    std::os::unix::fs::symlink(other.path().join("id_rsa"), dir.path().join("innocent.txt"))
        .unwrap();
    std::os::unix::fs::symlink(other.path(), dir.path().join("linkdir")).unwrap();
    let err = refused(&["innocent.txt"], &roots, &Limits::default());
    assert!(
        err.starts_with("innocent.txt: resolves to") && err.contains("outside"),
        "{err}"
    );
    let err = refused(&["linkdir/id_rsa"], &roots, &Limits::default());
    assert!(
        err.starts_with("linkdir/id_rsa: resolves to") && err.contains("outside"),
        "{err}"
    );
    write(dir.path(), "ok.txt", "fine");
    let err = refused(&["*.txt"], &roots, &Limits::default());
    assert!(
        err.contains("innocent.txt") && err.contains("outside"),
        "a glob match is checked too: {err}"
    );
}

#[test]
fn dotdot_escapes_are_refused() {
    let (dir, roots) = root();
    let parent_file = dir
        .path()
        .parent()
        .unwrap()
        .join(format!("{}-escape.txt", fastrand::u64(..)));
    fs::write(&parent_file, "outside").unwrap();
    let name = format!("../{}", parent_file.file_name().unwrap().to_string_lossy());
    let err = refused(&[&name], &roots, &Limits::default());
    fs::remove_file(&parent_file).unwrap();
    assert!(
        err.starts_with(&name) && err.contains("outside the file roots"),
        "{err}"
    );
    let err = refused(&["../*"], &roots, &Limits::default());
    assert!(
        err.starts_with("../*: resolves to") && err.contains("outside the file roots"),
        "a glob cannot walk above the root: {err}"
    );
}

#[test]
fn a_directory_is_refused_with_a_glob_to_use_instead() {
    let (dir, roots) = root();
    fs::create_dir(dir.path().join("src")).unwrap();
    let err = refused(&["src"], &roots, &Limits::default());
    assert!(
        err.starts_with("src: is a directory") && err.contains("src/**/*.rs"),
        "{err}"
    );
}

#[test]
fn dev_zero_is_refused_as_a_device_without_being_read() {
    let roots = Roots::new(vec!["/dev".into()]).unwrap();
    let err = refused(&["/dev/zero"], &roots, &Limits::default());
    assert_eq!(
        err,
        "/dev/zero: is a device, not a regular file; only regular files can be attached"
    );
    let err = read_images(&strings(&["/dev/urandom"]), &roots, &Limits::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("is a device"), "{err}");
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let (dir, roots) = root();
    let status = std::process::Command::new("mkfifo")
        .arg(dir.path().join("pipe"))
        .status()
        .unwrap();
    assert!(status.success());
    let err = refused(&["pipe"], &roots, &Limits::default());
    assert!(err.starts_with("pipe: is a FIFO"), "{err}");
}

#[test]
fn a_binary_that_is_not_a_pdf_is_refused() {
    let (dir, roots) = root();
    write(dir.path(), "app.bin", b"\x7fELF\x02\x01\x01\x00\x00");
    write(dir.path(), "latin1.txt", b"caf\xe9");
    for name in ["app.bin", "latin1.txt"] {
        let err = refused(&[name], &roots, &Limits::default());
        assert_eq!(
            err,
            format!("{name}: is a binary file; only UTF-8 text and PDF files can be attached")
        );
    }
}

#[test]
fn an_oversized_file_is_refused_before_it_is_read_with_the_limit_in_the_error() {
    let (dir, roots) = root();
    let file = fs::File::create(dir.path().join("huge.log")).unwrap();
    file.set_len(DEFAULT_MAX_FILE_BYTES + 1).unwrap();
    let err = refused(&["huge.log"], &roots, &Limits::default());
    assert_eq!(
        err,
        "huge.log: is 2097153 bytes, over the limit of 2097152 bytes per file; attach a smaller file or an excerpt"
    );
}

#[test]
fn the_total_size_is_bounded() {
    let (dir, roots) = root();
    write(dir.path(), "a.txt", "a".repeat(600));
    write(dir.path(), "b.txt", "b".repeat(600));
    let limits = Limits {
        max_total_bytes: 1000,
        ..Limits::default()
    };
    let err = refused(&["a.txt", "b.txt"], &roots, &limits);
    assert!(
        err.starts_with("b.txt: would bring") && err.contains("1000 bytes in total"),
        "{err}"
    );
}

#[test]
fn too_many_files_are_refused_with_the_limit() {
    let (dir, roots) = root();
    let names: Vec<String> = (0..6).map(|i| format!("f{i}.txt")).collect();
    for name in &names {
        write(dir.path(), name, "x");
    }
    let limits = Limits {
        max_files: 5,
        ..Limits::default()
    };
    let err = read_files(&names, &roots, &limits).unwrap_err().to_string();
    assert_eq!(
        err,
        "6 files to attach, over the limit of 5 files; attach fewer files or narrow the globs"
    );
}

#[test]
fn a_glob_over_thousands_of_files_stops_at_the_match_limit() {
    let (dir, roots) = root();
    for d in 0..3 {
        for f in 0..1000 {
            fs::create_dir_all(dir.path().join(format!("d{d}"))).unwrap();
            fs::write(dir.path().join(format!("d{d}/f{f}.txt")), "").unwrap();
        }
    }
    let err = refused(&["**/*.txt"], &roots, &Limits::default());
    assert_eq!(
        err,
        "**/*.txt: matches more than 1000 files; narrow the glob"
    );
    let limits = Limits {
        max_glob_entries: 500,
        ..Limits::default()
    };
    let err = refused(&["**/*.rs"], &roots, &limits);
    assert_eq!(
        err,
        "**/*.rs: looked at more than 500 entries without finishing; narrow the glob to a smaller directory"
    );
    let err = refused(&["d0/*.rs"], &roots, &Limits::default());
    assert_eq!(err, "d0/*.rs: matches no files");
}

#[test]
fn missing_files_missing_roots_and_bad_globs_are_named() {
    let (_dir, roots) = root();
    let err = refused(&["nope.txt"], &roots, &Limits::default());
    assert!(err.starts_with("nope.txt: No such file"), "{err}");
    let err = refused(&["a.txt"], &Roots::default(), &Limits::default());
    assert!(err.contains("SWITCHBOARD_FILE_ROOTS"), "{err}");
    let err = refused(&["src/[a.rs"], &roots, &Limits::default());
    assert!(err.starts_with("src/[a.rs: not a valid glob"), "{err}");
    let err = refused(&["nodir/*.rs"], &roots, &Limits::default());
    assert!(err.starts_with("nodir/*.rs: No such file"), "{err}");
    let err = Roots::new(vec!["/definitely/not/here".into()])
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("file root /definitely/not/here:"), "{err}");
}
