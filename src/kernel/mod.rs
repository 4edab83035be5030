//! Kernel state read from /proc and the files that set it at boot: mounts, swap, modules and
//! sysctl settings.

pub mod modules;
pub mod mountinfo;
pub mod swaps;
pub mod sysctl;

/// Decodes the octal escapes the kernel writes for space, tab, newline and backslash in
/// /proc/*/mountinfo and /proc/swaps paths (`\040`, `\011`, `\012`, `\134`).
pub fn unescape_octal(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut output = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let digits = bytes.get(index + 1..index + 4);
        if bytes[index] == b'\\'
            && let Some(digits) = digits
            && digits.iter().all(|d| (b'0'..=b'7').contains(d))
        {
            let value = digits
                .iter()
                .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
            if let Ok(byte) = u8::try_from(value) {
                output.push(byte);
                index += 4;
                continue;
            }
        }
        output.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&output).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_kernel_octal() {
        assert_eq!(unescape_octal(r"/mnt/a\040b\134c"), r"/mnt/a b\c");
        assert_eq!(unescape_octal(r"/tab\011x"), "/tab\tx");
        assert_eq!(unescape_octal(r"/plain\0"), r"/plain\0");
    }
}
