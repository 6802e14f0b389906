//! A flow collection that starts a line (`- [1, 2, 3]`, or a whole document `{...}`), found
//! before the parser sees it, so that a long one can be refused.
//!
//! Why: such a collection could be a simple key (`[a, b]: value`), and yaml-rust2 (0.13) keeps
//! every token of it queued until it closes, since its check that a key candidate has gone
//! stale skips flow context. A 2 MB `[1,1,1,…]` alone holds about 200 bytes of heap per byte of
//! text before the first event reaches us; the same list after a key (`values: [...]`) is read
//! item by item. So the items of a line-starting collection are counted here, with a lexer that
//! knows just enough YAML for that: it skips block scalars (`|`, `>`), quoted text and comments,
//! and matches brackets. Its errors only cost a wrong count: a bracket inside a multi-line plain
//! scalar may start a phantom collection, which ends at its matching bracket or the text's end.

/// Items a line-starting flow collection may hold (its `,` `:` `[` `{` outside quotes). Queued
/// tokens cost about 400 bytes an item at worst, so this keeps the queue within a few megabytes,
/// while no config writes a line-starting list of ten thousand items (a list after a key has no
/// such limit).
pub const MAX_ITEMS: usize = 10_000;

/// The 1-based line of the first line-starting flow collection with more than [`MAX_ITEMS`]
/// items, if there is one.
pub fn oversized(text: &str) -> Option<u32> {
    let bytes = text.as_bytes();
    let mut line = 1u32;
    let mut i = 0;
    // While in a block scalar: the indentation of the line that opened it.
    let mut block_scalar: Option<usize> = None;
    while i < bytes.len() {
        let end = line_end(bytes, i);
        let indent = bytes[i..end].iter().take_while(|&&b| b == b' ').count();
        let content = i + indent;
        if let Some(parent) = block_scalar {
            if content == end || indent > parent {
                i = end + 1;
                line += 1;
                continue;
            }
            block_scalar = None;
        }
        let start = skip_indicators(bytes, content, end);
        if start < end && matches!(bytes[start], b'[' | b'{') {
            let (close, items) = flow_extent(bytes, start);
            if items > MAX_ITEMS {
                return Some(line);
            }
            // Go on from the line where the collection closed.
            line += bytes[i..close].iter().filter(|&&b| b == b'\n').count() as u32;
            let rest = line_end(bytes, close);
            i = rest + 1;
            line += 1;
            continue;
        }
        if opens_block_scalar(&bytes[content..end]) {
            block_scalar = Some(indent);
        }
        i = end + 1;
        line += 1;
    }
    None
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p)
}

/// Past the `---` , `- ` and `? ` indicators and the `&anchor` / `!tag` properties that may come
/// before a line's first node.
fn skip_indicators(bytes: &[u8], mut i: usize, end: usize) -> usize {
    loop {
        let rest = &bytes[i..end];
        let step = match rest {
            [b'-', b'-', b'-', b' ' | b'\t', ..] if i == 0 || bytes[i - 1] == b'\n' => 4,
            [b'-' | b'?', b' ' | b'\t', ..] => 2,
            [b'&' | b'!', ..] => rest
                .iter()
                .position(|&b| b == b' ' || b == b'\t')
                .unwrap_or(rest.len()),
            _ => return i,
        };
        i += step;
        while i < end && matches!(bytes[i], b' ' | b'\t') {
            i += 1;
        }
    }
}

/// Where the collection opening at `open` closes (the index after its bracket, or the text's
/// end), and how many items it holds.
fn flow_extent(bytes: &[u8], open: usize) -> (usize, usize) {
    let (mut depth, mut items) = (0usize, 0usize);
    let mut prev = b'[';
    let mut i = open;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'[' | b'{' => {
                depth += 1;
                items += 1;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return (i + 1, items);
                }
            }
            b',' | b':' => items += 1,
            b'"' | b'\'' if matches!(prev, b'[' | b'{' | b',' | b':') => {
                i = quote_end(bytes, i);
            }
            b'#' if i > 0 && matches!(bytes[i - 1], b' ' | b'\t' | b'\n') => {
                i = line_end(bytes, i);
                continue;
            }
            _ => {}
        }
        if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            prev = b;
        }
        i += 1;
    }
    (bytes.len(), items)
}

/// The index of the quote that closes the quoted text opening at `open`.
fn quote_end(bytes: &[u8], open: usize) -> usize {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 1,
            // '' is a quote inside single-quoted text.
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 1,
            b if b == quote => return i,
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// Whether a line ends with a block scalar's header (`key: |`, `- >-`, `text: |2`).
fn opens_block_scalar(line: &[u8]) -> bool {
    let line = match line.windows(2).position(|w| w == b" #") {
        Some(p) => &line[..p],
        None => line,
    };
    let line = line.trim_ascii_end();
    let word_start = line.iter().rposition(|&b| b == b' ').map_or(0, |p| p + 1);
    match &line[word_start..] {
        [b'|' | b'>', rest @ ..] => {
            rest.len() <= 2 && rest.iter().all(|&b| matches!(b, b'+' | b'-' | b'1'..=b'9'))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(n: usize) -> String {
        format!("[{}1]", "1,".repeat(n))
    }

    #[test]
    fn a_long_list_that_starts_a_line_is_found_at_its_line() {
        assert_eq!(oversized(&list(20_000)), Some(1));
        let text = format!("a: 1\nitems:\n  - {}\n", list(20_000));
        assert_eq!(oversized(&text), Some(3));
        let text = format!("# c\n--- &x {}\n", list(20_000));
        assert_eq!(
            oversized(&text),
            Some(2),
            "after `---` the collection still starts a node"
        );
        assert_eq!(oversized(&format!("&x {}", list(20_000))), Some(1));
    }

    #[test]
    fn lists_after_a_key_short_lists_and_text_pass() {
        assert_eq!(oversized(&format!("values: {}\n", list(20_000))), None);
        assert_eq!(oversized(&format!("- {}\n- [a, b]\n", list(100))), None);
        let prose = format!("text: |\n  [{}\nnext: 1\n", "a, ".repeat(20_000));
        assert_eq!(oversized(&prose), None, "a block scalar is skipped");
        let quoted = format!("- ['{}', \"x]\"]\n", "a,".repeat(20_000));
        assert_eq!(oversized(&quoted), None, "quoted text is skipped");
    }

    #[test]
    fn counting_goes_on_after_a_collection_closes() {
        let text = format!("- [1, 2]\n- {{a: 1}}\n- {}\n", list(20_000));
        assert_eq!(oversized(&text), Some(3));
        let multi = format!("- [1,\n   2]\n- {}\n", list(20_000));
        assert_eq!(oversized(&multi), Some(3));
    }
}
