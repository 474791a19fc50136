//! Prefixed, coloured output of the child processes: every line a child writes (stdout
//! or stderr) is printed as `HH:MM:SS worker.2 | line`, one colour per process, the way
//! `heroku local` does. Colour is off when stdout is not a terminal or `NO_COLOR` is set.

use std::io::{IsTerminal, Write};

use anstyle::{AnsiColor, Style};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

const PALETTE: [AnsiColor; 6] = [
    AnsiColor::Cyan,
    AnsiColor::Yellow,
    AnsiColor::Green,
    AnsiColor::Magenta,
    AnsiColor::Blue,
    AnsiColor::Red,
];

/// How one process's lines are labelled.
#[derive(Debug, Clone)]
pub struct Label {
    text: String,
    style: Style,
}

impl Label {
    /// The label for the `index`-th process named `name`, padded to `width`.
    pub fn new(name: &str, index: usize, width: usize) -> Label {
        let colour = std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal();
        let style = if colour {
            Style::new().fg_color(Some(PALETTE[index % PALETTE.len()].into()))
        } else {
            Style::new()
        };
        Label {
            text: format!("{name:<width$}"),
            style,
        }
    }

    /// Prints one line under this label.
    pub fn print(&self, line: &str) {
        let now = chrono::Local::now().format("%H:%M:%S");
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "{}{now} {} |{:#} {line}",
            self.style, self.text, self.style
        );
    }
}

/// Copies `stream` line by line under `label` until it closes.
pub fn forward(label: Label, stream: impl AsyncRead + Unpin + Send + 'static) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            label.print(&line);
        }
    });
}
