//! The reader's terminal backend: crossterm's, writing fewer bytes. ratatui
//! sends only the cells that changed and moves the cursor over every run of
//! unchanged ones. Text set over blank space (an article opened in a pane
//! that held a hint) changes every word but not the spaces between them, so
//! each space cost a cursor move of 8 to 10 bytes: a third of what opening
//! an article wrote. [`GapFilling`] writes a short run of unchanged cells
//! instead of the move when that is shorter and needs no change of style.
//!
//! It knows the unchanged cells by keeping what it wrote: the screen starts
//! blank (ratatui assumes so too), a clear blanks it, and each frame's
//! changes are applied to it. Cells ratatui is told to leave alone (a
//! picture's, drawn by an escape sequence) are not seen by the backend: the
//! draw closure names them ([`LeftAlone::note`]) and they are never written.
//!
//! A frame that changes nothing writes nothing: no colour reset, and the
//! cursor hidden again only when it was shown.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::{Buffer, Cell, CellDiffOption, CellWidth};
use ratatui::layout::{Position, Rect, Size};

/// The cells of the frame being drawn that ratatui will not copy to the
/// screen, handed from the draw closure to the backend.
#[derive(Clone, Default)]
pub struct LeftAlone(Rc<RefCell<Vec<(u16, u16)>>>);

impl LeftAlone {
    /// Notes the cells of `frame` ratatui leaves alone: those marked to be
    /// skipped, and those a cell of forced width covers.
    #[allow(deprecated)] // `skip` is still set by widgets written before `diff_option`
    pub fn note(&self, frame: &Buffer) {
        let mut cells = self.0.borrow_mut();
        cells.clear();
        let at = |i: usize| frame.pos_of(i);
        for (i, cell) in frame.content.iter().enumerate() {
            match cell.diff_option {
                CellDiffOption::None if !cell.skip => {}
                CellDiffOption::ForcedWidth(w) => {
                    let end = (i + w.get() as usize).min(frame.content.len());
                    cells.extend((i..end).map(at));
                }
                _ => cells.push(at(i)),
            }
        }
    }
}

/// Crossterm's backend, filling short gaps between changed cells.
pub struct GapFilling<W: Write> {
    inner: CrosstermBackend<W>,
    /// What the screen shows, as far as it is known: a cell marked to be
    /// skipped is one that is not (under a picture).
    screen: Buffer,
    left_alone: LeftAlone,
    /// Whether the cursor is hidden, when known: ratatui hides it at every
    /// frame, which wrote six bytes to a frame that changed nothing.
    cursor_hidden: Option<bool>,
}

impl<W: Write> GapFilling<W> {
    pub fn new(writer: W) -> Self {
        Self {
            inner: CrosstermBackend::new(writer),
            screen: Buffer::empty(Rect::ZERO),
            left_alone: LeftAlone::default(),
            cursor_hidden: None,
        }
    }

    /// The handle the draw closure names the cells left alone with.
    pub fn left_alone(&self) -> LeftAlone {
        self.left_alone.clone()
    }

    /// Makes room for cell (`x`, `y`): the screen outside what was drawn
    /// so far is blank.
    fn reach(&mut self, x: u16, y: u16) {
        let area = self.screen.area;
        if x < area.right() && y < area.bottom() {
            return;
        }
        let wider = Rect::new(0, 0, area.right().max(x + 1), area.bottom().max(y + 1));
        let old = std::mem::replace(&mut self.screen, Buffer::empty(wider));
        for (i, cell) in old.content.iter().enumerate() {
            self.screen[old.pos_of(i)] = cell.clone();
        }
    }

    /// Everything on the screen unknown: nothing will be filled until it is
    /// drawn again.
    fn forget_all(&mut self) {
        for cell in &mut self.screen.content {
            cell.set_diff_option(CellDiffOption::Skip);
        }
    }
}

/// Bytes of the cursor move to column `x`, row `y` (`ESC [ row ; col H`).
fn move_bytes(x: u16, y: u16) -> usize {
    let digits = |n: u16| (n as u32 + 1).ilog10() as usize + 1;
    4 + digits(x) + digits(y)
}

/// A cell that may be written as it is: one plain character, one column
/// wide, nothing special about how ratatui copies it.
#[allow(deprecated)]
fn plain(cell: &Cell) -> bool {
    let symbol = cell.symbol();
    cell.diff_option == CellDiffOption::None
        && !cell.skip
        && symbol.chars().count() == 1
        && !symbol.chars().any(char::is_control)
        && symbol.cell_width() == 1
}

/// The updates with the short gaps of each row filled from `screen`: a gap
/// is filled when all its cells are plain, in the style of the cell before
/// it, and shorter to write than the cursor move they replace.
fn fill_gaps<'a>(
    updates: &[(u16, u16, &'a Cell)],
    screen: &'a Buffer,
) -> Vec<(u16, u16, &'a Cell)> {
    let mut out = Vec::with_capacity(updates.len() * 2);
    let mut last: Option<(u16, u16, &Cell)> = None;
    for &(x, y, cell) in updates {
        if let Some((lx, ly, lcell)) = last
            && ly == y
            && x > lx + 1
            && plain(lcell)
        {
            let style = lcell.style();
            let gap: Option<Vec<&Cell>> = (lx + 1..x)
                .map(|gx| {
                    screen
                        .cell((gx, y))
                        .filter(|c| plain(c) && c.style() == style)
                })
                .collect();
            if let Some(gap) = gap
                && gap.iter().map(|c| c.symbol().len()).sum::<usize>() <= move_bytes(x, y)
            {
                out.extend(gap.into_iter().zip(lx + 1..x).map(|(c, gx)| (gx, y, c)));
            }
        }
        out.push((x, y, cell));
        last = Some((x, y, cell));
    }
    out
}

impl<W: Write> Backend for GapFilling<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let updates: Vec<_> = content.collect();
        // A frame that changes nothing writes nothing (crossterm's draw would
        // still reset the colours, and the bytes came as a second burst).
        if updates.is_empty() {
            return Ok(());
        }
        if let (Some(right), Some(bottom)) = (
            updates.iter().map(|u| u.0).max(),
            updates.iter().map(|u| u.1).max(),
        ) {
            self.reach(right, bottom);
        }
        for (x, y) in std::mem::take(&mut *self.left_alone.0.borrow_mut()) {
            if let Some(cell) = self.screen.cell_mut((x, y)) {
                cell.set_diff_option(CellDiffOption::Skip);
            }
        }
        let filled = fill_gaps(&updates, &self.screen);
        self.inner.draw(filled.into_iter())?;
        for (x, y, cell) in updates {
            self.screen[(x, y)] = cell.clone();
        }
        Ok(())
    }

    fn append_lines(&mut self, n: u16) -> io::Result<()> {
        self.forget_all();
        self.inner.append_lines(n)
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        if self.cursor_hidden != Some(true) {
            self.inner.hide_cursor()?;
            self.cursor_hidden = Some(true);
        }
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if self.cursor_hidden != Some(false) {
            self.inner.show_cursor()?;
            self.cursor_hidden = Some(false);
        }
        Ok(())
    }

    fn get_cursor_position(&mut self) -> io::Result<Position> {
        self.inner.get_cursor_position()
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.inner.set_cursor_position(position)
    }

    fn clear(&mut self) -> io::Result<()> {
        self.screen.reset();
        self.cursor_hidden = None;
        self.inner.clear()
    }

    fn clear_region(&mut self, clear_type: ClearType) -> io::Result<()> {
        match clear_type {
            ClearType::All => self.screen.reset(),
            _ => self.forget_all(),
        }
        self.cursor_hidden = None;
        self.inner.clear_region(clear_type)
    }

    fn size(&self) -> io::Result<Size> {
        self.inner.size()
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        self.inner.window_size()
    }

    fn flush(&mut self) -> io::Result<()> {
        Backend::flush(&mut self.inner)
    }
}

#[cfg(test)]
mod tests {
    use ratatui::layout::Rect;
    use ratatui::style::{Color, Style};
    use ratatui::widgets::{Paragraph, Widget, Wrap};
    use ratatui::{Terminal, TerminalOptions, Viewport};

    use super::*;

    const AREA: Rect = Rect::new(0, 0, 60, 12);

    /// What a backend wrote, kept where the test can read it.
    #[derive(Clone, Default)]
    struct Captured(Rc<RefCell<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Draws each frame in turn (each drawing into a blank buffer, as the
    /// reader does) through the gap-filling backend, or through crossterm's
    /// own; returns the bytes the last frame wrote and the terminal's screen.
    fn draw_frames(frames: &[&dyn Fn(&mut Buffer)], fill: bool) -> (usize, vt100::Parser) {
        let mut screen = vt100::Parser::new(
            std::num::NonZero::new(AREA.height).unwrap(),
            std::num::NonZero::new(AREA.width).unwrap(),
            0,
        );
        let options = || TerminalOptions {
            viewport: Viewport::Fixed(AREA),
        };
        let out = Captured::default();
        let mut last = 0;
        let mut show = |screen: &mut vt100::Parser| {
            let written = std::mem::take(&mut *out.0.borrow_mut());
            screen.process(&written);
            last = written.len();
        };
        if fill {
            let mut terminal =
                Terminal::with_options(GapFilling::new(out.clone()), options()).unwrap();
            let left_alone = terminal.backend().left_alone();
            for draw in frames {
                terminal
                    .draw(|frame| {
                        draw(frame.buffer_mut());
                        left_alone.note(frame.buffer_mut());
                    })
                    .unwrap();
                show(&mut screen);
            }
        } else {
            let mut terminal =
                Terminal::with_options(CrosstermBackend::new(out.clone()), options()).unwrap();
            for draw in frames {
                terminal.draw(|frame| draw(frame.buffer_mut())).unwrap();
                show(&mut screen);
            }
        }
        (last, screen)
    }

    const TEXT: &str = "The web server hides the build cache on a cold cache. The web \
        server measures the old behaviour for the first time. The kernel halves the happy \
        path at least in theory. It took 28 commits and 953 review rounds to land.";

    fn hint(buf: &mut Buffer) {
        Paragraph::new("Enter opens the selected article").render(AREA, buf);
    }

    fn article(buf: &mut Buffer) {
        Paragraph::new(TEXT)
            .wrap(Wrap { trim: true })
            .render(AREA, buf);
    }

    #[test]
    fn text_over_blank_space_shows_the_same_in_far_fewer_bytes() {
        let frames: [&dyn Fn(&mut Buffer); 2] = [&hint, &article];
        let (filled_bytes, filled) = draw_frames(&frames, true);
        let (plain_bytes, plain) = draw_frames(&frames, false);
        assert_eq!(filled.screen().contents(), plain.screen().contents());
        assert!(
            filled
                .screen()
                .contents()
                .starts_with("The web server hides the build")
        );
        assert!(
            filled_bytes * 10 < plain_bytes * 6,
            "{filled_bytes} bytes filling gaps against {plain_bytes} moving over them"
        );
    }

    #[test]
    fn a_frame_that_changes_nothing_writes_nothing() {
        let frames: [&dyn Fn(&mut Buffer); 2] = [&article, &article];
        assert_eq!(draw_frames(&frames, true).0, 0);
        assert!(
            draw_frames(&frames, false).0 > 0,
            "crossterm's own writes a reset"
        );
    }

    #[test]
    fn pictures_and_cells_in_another_style_are_left_as_they_are() {
        let text = |buf: &mut Buffer| {
            buf.set_string(0, 0, "abcdef", Style::new());
            buf.set_string(0, 1, "uvwxyz", Style::new());
            buf.set_string(2, 2, "red", Style::new().fg(Color::Red));
        };
        // A picture two cells wide and two high, drawn the way ratatui-image
        // draws one: an escape sequence in its first cell, the others left
        // alone (here the escape prints PQ, goes down a row and prints RS).
        let picture = |buf: &mut Buffer| {
            text(buf);
            let escape = "PQ\x1b[1B\x1b[2DRS";
            let width = std::num::NonZeroU16::new(1).unwrap();
            buf[(2, 0)]
                .set_symbol(escape)
                .set_diff_option(CellDiffOption::ForcedWidth(width));
            for cell in [(3, 0), (2, 1), (3, 1)] {
                buf[cell].set_diff_option(CellDiffOption::Skip);
            }
        };
        let around = |buf: &mut Buffer| {
            picture(buf);
            buf.set_string(1, 1, "<", Style::new());
            buf.set_string(4, 1, ">", Style::new());
            buf.set_string(1, 2, "<", Style::new());
            buf.set_string(5, 2, ">", Style::new());
        };
        let frames: [&dyn Fn(&mut Buffer); 3] = [&text, &picture, &around];
        let (_, screen) = draw_frames(&frames, true);
        let rows: Vec<String> = screen.screen().rows(0, 8).take(3).collect();
        assert_eq!(rows, ["abPQef", "u<RS>z", " <red>"]);
        let red = screen.screen().cell(2, 3).unwrap();
        assert_eq!(
            red.fgcolor(),
            vt100::Color::Idx(1),
            "the gap keeps its colour"
        );
    }
}
