//! Column alignment as Go's `text/tabwriter` does it, for the settings kubeadm uses.
//!
//! kubeadm prints its tables through `tabwriter.NewWriter(out, 10, 4, 3, ' ', 0)`. The rules
//! that make the output byte-identical:
//!
//! - A cell is text terminated by a tab. The text after the last tab of a line is a trailing
//!   cell: it is printed as is and never widens a column.
//! - A column block is a run of consecutive lines that all have a tab-terminated cell in that
//!   column. Its width is the widest cell in the block plus the padding, and at least the
//!   minimum width. A line without that cell, such as an empty line, ends the block, so the two
//!   tables kubeadm prints are aligned separately.
//! - Blocks nest: the cells right of column `i` are aligned within the lines of the block of
//!   column `i` only.
//! - A trailing cell is padded when it falls in a column that an enclosing block already sized.
//!
//! Widths count Unicode scalar values, as Go counts runes. With a space as the padding
//! character the tab width plays no part, so it is not a parameter here.

/// The alignment settings: minimum cell width and padding, both in characters.
#[derive(Clone, Copy, Debug)]
pub struct TabWriter {
    pub min_width: usize,
    pub padding: usize,
}

/// kubeadm's settings: minwidth 10, padding 3, padchar ' ', no flags.
pub const KUBEADM: TabWriter = TabWriter {
    min_width: 10,
    padding: 3,
};

impl TabWriter {
    /// Aligns `text` and returns it. Text after the last newline is copied unchanged.
    pub fn format(&self, text: &str) -> String {
        let lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
        let mut layout = Layout {
            settings: *self,
            lines: &lines,
            widths: Vec::new(),
            out: String::new(),
        };
        layout.format_block(0, lines.len());
        layout.out
    }
}

struct Layout<'a> {
    settings: TabWriter,
    lines: &'a [Vec<&'a str>],
    /// Widths of the columns of the enclosing blocks, one per column from the left.
    widths: Vec<usize>,
    out: String,
}

impl Layout<'_> {
    /// Sizes the next column for each block within `first..end` and writes the lines.
    fn format_block(&mut self, first: usize, end: usize) {
        let column = self.widths.len();
        let mut unwritten = first;
        let mut line = first;

        while line < end {
            if !self.has_column(line, column) {
                line += 1;
                continue;
            }
            self.write_lines(unwritten, line);

            let block_start = line;
            let mut width = self.settings.min_width;
            while line < end && self.has_column(line, column) {
                let cell = cell_width(self.lines[line][column]);
                width = width.max(cell + self.settings.padding);
                line += 1;
            }

            self.widths.push(width);
            self.format_block(block_start, line);
            self.widths.pop();
            unwritten = line;
        }
        self.write_lines(unwritten, end);
    }

    /// Returns whether the line has a tab-terminated cell in `column`.
    fn has_column(&self, line: usize, column: usize) -> bool {
        column + 1 < self.lines[line].len()
    }

    fn write_lines(&mut self, first: usize, end: usize) {
        for index in first..end {
            let cells = &self.lines[index];
            for (column, cell) in cells.iter().enumerate() {
                self.out.push_str(cell);
                if let Some(&width) = self.widths.get(column) {
                    let fill = width.saturating_sub(cell_width(cell));
                    self.out.extend(std::iter::repeat_n(' ', fill));
                }
            }
            if index + 1 < self.lines.len() {
                self.out.push('\n');
            }
        }
    }
}

fn cell_width(cell: &str) -> usize {
    cell.chars().count()
}

#[cfg(test)]
mod tests {
    use super::KUBEADM;

    #[test]
    fn columns_take_widest_cell_plus_padding() {
        let text = "a\tbb\tend\nccc\td\tend\n";
        assert_eq!(
            KUBEADM.format(text),
            "a         bb        end\nccc       d         end\n"
        );
    }

    #[test]
    fn wide_cell_exceeds_min_width() {
        let text = "apiserver-kubelet-client\tx\n";
        assert_eq!(KUBEADM.format(text), "apiserver-kubelet-client   x\n");
    }

    #[test]
    fn trailing_cell_does_not_widen_column() {
        let text = "a\tb\nlong-trailing-cell-text\n";
        assert_eq!(
            KUBEADM.format(text),
            "a         b\nlong-trailing-cell-text\n"
        );
    }

    #[test]
    fn empty_line_splits_blocks() {
        let text = "a-very-long-first-cell\tx\n\nb\ty\n";
        assert_eq!(
            KUBEADM.format(text),
            "a-very-long-first-cell   x\n\nb         y\n"
        );
    }

    #[test]
    fn empty_trailing_cell_padded_inside_enclosing_block() {
        // The missing row has four tabs, so its cells fill every column of the header's block.
        let text = "NAME\tA\tB\tLAST\n!MISSING! x\t\t\tend\n";
        let expected = "NAME          A         B         LAST\n\
                        !MISSING! x                       end\n";
        assert_eq!(KUBEADM.format(text), expected);
    }

    #[test]
    fn nested_block_only_spans_lines_with_the_column() {
        // The second column is sized by lines 1 and 3 separately, because line 2 ends early.
        let text = "a\tbbbbbbbbbbbbbbb\tc\na\td\nx\te\tf\n";
        let expected = "a         bbbbbbbbbbbbbbb   c\n\
                        a         d\n\
                        x         e         f\n";
        assert_eq!(KUBEADM.format(text), expected);
    }

    #[test]
    fn text_after_last_newline_is_copied() {
        assert_eq!(KUBEADM.format("a\tb"), "a         b");
    }

    #[test]
    fn widths_count_characters_not_bytes() {
        assert_eq!(KUBEADM.format("ü\tx\n"), "ü         x\n");
    }
}
