//! `vdpctl top` on a terminal: the alternate screen in raw mode, redrawn in place at every
//! refresh and on every key, and given back as it was on every way out: `q`, Esc or Ctrl-C,
//! `--count` refreshes done, an error (a failed sample), a panic (ratatui's hook), and SIGINT,
//! SIGTERM or SIGHUP from elsewhere (exit 128 + the signal's number, as a shell reports it).

use super::rates::{self, Interval};
use super::sample::Source;
use super::ui::{self, View};
use super::Ticker;
use anyhow::Result;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long a wait for a key lasts before the signal flag is looked at again.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// Gives the terminal back (raw mode off, the main screen again) when dropped: on return, on an
/// error's early return and while a panic unwinds.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

/// What a key asks for.
enum Key {
    Quit,
    /// Ctrl-C: raw mode turns it into a key rather than SIGINT; it ends as SIGINT would.
    Interrupt,
    Redraw,
    Ignore,
}

fn key(view: &mut View, interval: &Interval, event: &Event) -> Key {
    match event {
        Event::Key(k) if k.kind == KeyEventKind::Press => match k.code {
            KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => Key::Interrupt,
            KeyCode::Char('q') | KeyCode::Esc => Key::Quit,
            KeyCode::Up | KeyCode::Char('k') => {
                view.step(interval, -1);
                Key::Redraw
            }
            KeyCode::Down | KeyCode::Char('j') => {
                view.step(interval, 1);
                Key::Redraw
            }
            KeyCode::Char('s') => {
                view.sort = view.sort.next();
                Key::Redraw
            }
            _ => Key::Ignore,
        },
        Event::Resize(..) => Key::Redraw,
        _ => Key::Ignore,
    }
}

pub fn run(source: &mut Source, every: Duration, count: Option<u64>) -> Result<ExitCode> {
    let signal = Arc::new(AtomicUsize::new(0));
    for number in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        signal_hook::flag::register_usize(number, Arc::clone(&signal), number as usize)?;
    }
    let title = source.describe();
    let every_text = format!("{} s", every.as_secs_f64());
    let mut earlier = source.sample()?;
    let mut interval = rates::between(None, &earlier);
    let mut ticker = Ticker::new(earlier.at, every);
    let mut view = View::default();
    let mut refreshes = 0u64;
    let _restore = Restore;
    let mut terminal = ratatui::try_init()?;
    loop {
        terminal.draw(|frame| ui::draw(frame, &interval, &view, &title, &every_text))?;
        if count.is_some_and(|n| refreshes >= n) {
            return Ok(ExitCode::SUCCESS);
        }
        // Keys until the next refresh is due.
        loop {
            let number = signal.load(Ordering::Relaxed);
            if number != 0 {
                return Ok(ExitCode::from(128 + u8::try_from(number).unwrap_or(0)));
            }
            let left = ticker.remaining();
            if left.is_zero() {
                break;
            }
            if !event::poll(left.min(SIGNAL_CHECK))? {
                continue;
            }
            match key(&mut view, &interval, &event::read()?) {
                Key::Quit => return Ok(ExitCode::SUCCESS),
                Key::Interrupt => return Ok(ExitCode::from(128 + libc::SIGINT as u8)),
                Key::Redraw => {
                    terminal.draw(|frame| ui::draw(frame, &interval, &view, &title, &every_text))?;
                }
                Key::Ignore => {}
            }
        }
        ticker.advance();
        let later = source.sample()?;
        interval = rates::between(Some(&earlier), &later);
        earlier = later;
        refreshes += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::crossterm::event::KeyEvent;

    #[test]
    fn keys_move_the_selection_change_the_order_and_quit() {
        let interval = Interval { seconds: 1.0, tenants: Vec::new() };
        let mut view = View::default();
        let press = |code, modifiers| Event::Key(KeyEvent::new(code, modifiers));
        assert!(matches!(key(&mut view, &interval, &press(KeyCode::Char('q'), KeyModifiers::NONE)), Key::Quit));
        assert!(matches!(key(&mut view, &interval, &press(KeyCode::Esc, KeyModifiers::NONE)), Key::Quit));
        assert!(matches!(key(&mut view, &interval, &press(KeyCode::Char('c'), KeyModifiers::CONTROL)), Key::Interrupt));
        assert!(matches!(key(&mut view, &interval, &press(KeyCode::Char('c'), KeyModifiers::NONE)), Key::Ignore));
        assert!(matches!(key(&mut view, &interval, &press(KeyCode::Char('s'), KeyModifiers::NONE)), Key::Redraw));
        assert_eq!(view.sort, ui::SortKey::PacketsIn);
        assert!(matches!(key(&mut view, &interval, &press(KeyCode::Down, KeyModifiers::NONE)), Key::Redraw));
        assert!(matches!(key(&mut view, &interval, &Event::Resize(80, 24)), Key::Redraw));
    }
}
