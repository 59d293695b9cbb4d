//! `vdpctl top`'s screen: what one interval's rates look like, drawn with ratatui. Pure: it
//! draws into whatever frame it is given (the terminal, or a test's buffer).

use super::rates::{Continuity, ElementRates, Interval, TenantRates};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, TableState};
use ratatui::Frame;

/// The order of the tenant table; `s` steps through them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortKey {
    Id,
    PacketsIn,
    Drops,
    Cpu,
}

impl SortKey {
    pub fn next(self) -> SortKey {
        match self {
            SortKey::Id => SortKey::PacketsIn,
            SortKey::PacketsIn => SortKey::Drops,
            SortKey::Drops => SortKey::Cpu,
            SortKey::Cpu => SortKey::Id,
        }
    }

    fn title(self) -> &'static str {
        match self {
            SortKey::Id => "id",
            SortKey::PacketsIn => "in/s",
            SortKey::Drops => "drops/s",
            SortKey::Cpu => "cpu",
        }
    }
}

/// What the person at the terminal chose: the order, and the tenant whose elements show.
#[derive(Debug)]
pub struct View {
    pub sort: SortKey,
    /// The selected tenant's id: it stays selected when the order changes.
    pub selected: Option<u32>,
}

impl Default for View {
    fn default() -> View {
        View { sort: SortKey::Id, selected: None }
    }
}

impl View {
    /// The tenants in the chosen order: by id, or highest rate first (no rate last).
    pub fn order<'a>(&self, interval: &'a Interval) -> Vec<&'a TenantRates> {
        let mut tenants: Vec<&TenantRates> = interval.tenants.iter().collect();
        let key = |t: &TenantRates| match self.sort {
            SortKey::Id => None,
            SortKey::PacketsIn => t.graph.as_ref().and_then(|g| g.packets_in_per_s),
            SortKey::Drops => t.graph.as_ref().and_then(|g| g.drops_per_s),
            SortKey::Cpu => t.cpu.share,
        };
        tenants.sort_by(|a, b| key(b).unwrap_or(-1.0).total_cmp(&key(a).unwrap_or(-1.0)).then(a.id.cmp(&b.id)));
        tenants
    }

    /// Where the selection is in `order`: the selected tenant, or the first when it is gone.
    fn position(&self, order: &[&TenantRates]) -> Option<usize> {
        if order.is_empty() {
            return None;
        }
        Some(self.selected.and_then(|id| order.iter().position(|t| t.id == id)).unwrap_or(0))
    }

    /// Moves the selection `by` rows (negative: up), staying within the table.
    pub fn step(&mut self, interval: &Interval, by: isize) {
        let order = self.order(interval);
        if let Some(at) = self.position(&order) {
            let to = at.saturating_add_signed(by).min(order.len() - 1);
            self.selected = Some(order[to].id);
        }
    }
}

/// A rate as the tables show it: whole numbers, `-` when there is none.
fn rate(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| format!("{v:.0}"))
}

/// A fraction of one CPU as a percentage with one decimal, `-` when there is none.
fn percent(value: Option<f64>) -> String {
    value.map_or("-".into(), |v| format!("{:.1}", v * 100.0))
}

/// A number's cell: right-aligned, as figures are read.
fn figure(text: String) -> Line<'static> {
    Line::from(text).right_aligned()
}

fn tenant_row(t: &TenantRates) -> Row<'static> {
    let graph = t.graph.as_ref();
    let name = match t.state {
        Continuity::Steady => t.name.clone(),
        Continuity::New => format!("{} (new)", t.name),
        Continuity::Restarted => format!("{} (restarted)", t.name),
    };
    Row::new(vec![
        Line::from(t.id.to_string()),
        Line::from(name),
        figure(graph.map_or("no graph".into(), |g| rate(g.packets_in_per_s))),
        figure(rate(graph.and_then(|g| g.packets_out_per_s))),
        figure(rate(graph.and_then(|g| g.drops_per_s))),
        figure(percent(t.cpu.share)),
        figure(t.cpu.cap.map_or("max".into(), |cap| percent(Some(cap)))),
        figure(percent(t.cpu.of_cap)),
        figure(t.cpu.throttled_periods_per_s.map_or("-".into(), |v| format!("{v:.1}"))),
        figure(percent(t.cpu.throttled_share)),
    ])
}

fn element_row(e: &ElementRates) -> Row<'static> {
    Row::new(vec![
        Line::from(if e.root { format!("{} (root)", e.name) } else { e.name.clone() }),
        Line::from(e.class.clone()),
        figure(rate(e.packets_in_per_s)),
        figure(rate(e.packets_out_per_s)),
        figure(rate(e.drops_per_s)),
        figure(e.queue.map_or("-".into(), |q| format!("{}/{}", q.length, q.capacity))),
    ])
}

/// The titles, the first `text` of them left-aligned as their columns' text is, the figures'
/// right-aligned.
fn header(titles: &[&'static str], text: usize) -> Row<'static> {
    let cells = titles.iter().enumerate().map(|(i, t)| if i < text { Line::from(*t) } else { Line::from(*t).right_aligned() });
    Row::new(cells.collect::<Vec<_>>()).style(Style::new().add_modifier(Modifier::BOLD))
}

/// Draws one interval: a title line, the tenant table with the selection, the selected
/// tenant's elements, and the keys.
pub fn draw(frame: &mut Frame, interval: &Interval, view: &View, source: &str, every: &str) {
    let order = view.order(interval);
    let at = view.position(&order);
    // The tenant table takes what its rows need, up to half the screen.
    let tenant_height = u16::try_from(order.len()).unwrap_or(u16::MAX).saturating_add(3).min(frame.area().height / 2).max(4);
    let [title, tenants, elements, keys] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(tenant_height), Constraint::Min(3), Constraint::Length(1)]).areas(frame.area());
    frame.render_widget(Paragraph::new(format!("vdpctl top, every {every}, sorted by {}: {source}", view.sort.title())), title);

    let widths = [4, 16, 9, 9, 9, 6, 6, 6, 10, 6].map(Constraint::Length);
    let table = Table::new(order.iter().map(|t| tenant_row(t)), widths)
        .header(header(&["ID", "TENANT", "IN/s", "OUT/s", "DROPS/s", "CPU%", "CAP%", "OFCAP%", "THROTTL/s", "THR%"], 2))
        .block(Block::bordered().title(format!("tenants ({})", order.len())))
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = TableState::new().with_selected(at);
    frame.render_stateful_widget(table, tenants, &mut state);

    let selected = at.and_then(|i| order.get(i));
    let (title, rows): (String, Vec<Row>) = match selected {
        None => ("no tenants".into(), Vec::new()),
        Some(t) => match &t.graph {
            None => (format!("tenant {}: no graph", t.name), Vec::new()),
            Some(g) => (format!("elements of tenant {} ({})", t.name, g.elements.len()), g.elements.iter().map(element_row).collect()),
        },
    };
    let widths = [Constraint::Min(12), Constraint::Length(16), Constraint::Length(9), Constraint::Length(9), Constraint::Length(9), Constraint::Length(13)];
    let table = Table::new(rows, widths).header(header(&["ELEMENT", "CLASS", "IN/s", "OUT/s", "DROPS/s", "QUEUE"], 2)).block(Block::bordered().title(title));
    frame.render_widget(table, elements);
    frame.render_widget(Line::from("q quit   up/down select a tenant   s change the order   (- : no rate yet, or counters restarted)"), keys);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::top::rates::{between, tests::*};
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;
    use std::time::{Duration, Instant};

    fn screen(interval: &Interval, view: &View, width: u16, height: u16) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|frame| draw(frame, interval, view, "the module, every tenant", "1 s")).unwrap();
        let buffer = terminal.backend().buffer();
        (0..height).map(|y| (0..width).map(|x| buffer[(x, y)].symbol().to_string()).collect::<String>().trim_end().to_string()).collect()
    }

    fn two_tenants() -> Interval {
        let t0 = Instant::now();
        let mut blue0 = tenant(2, "blue", 41, 0, 0);
        blue0.cpu.quota_us = None;
        blue0.graph = None;
        let mut blue1 = tenant(2, "blue", 41, 500, 0);
        blue1.cpu.quota_us = None;
        blue1.graph = None;
        let a = sample(t0, vec![tenant(1, "red", 40, 1000, 10_000), blue0]);
        let b = sample(t0 + Duration::from_secs(1), vec![tenant(1, "red", 40, 1200, 12_000), blue1, tenant(3, "green", 42, 0, 0)]);
        between(Some(&a), &b)
    }

    fn words(line: &str) -> Vec<&str> {
        line.split(|c: char| c.is_whitespace() || c == '│').filter(|w| !w.is_empty()).collect()
    }

    #[test]
    fn the_tenant_table_and_the_selected_tenants_elements() {
        let interval = two_tenants();
        let lines = screen(&interval, &View::default(), 100, 24);
        assert_eq!(lines[0], "vdpctl top, every 1 s, sorted by id: the module, every tenant");
        assert!(lines[1].starts_with("┌tenants (3)"), "{}", lines[1]);
        assert_eq!(words(&lines[2]), ["ID", "TENANT", "IN/s", "OUT/s", "DROPS/s", "CPU%", "CAP%", "OFCAP%", "THROTTL/s", "THR%"]);
        // red: 2000 packets in a second, a tenth dropped at the queue and the rest discarded;
        // 200 ms of CPU in 1 s against a 20% cap; 10 throttled periods a second, stopped 80%.
        assert_eq!(words(&lines[3]), ["1", "red", "2000", "0", "2000", "20.0", "20.0", "100.0", "10.0", "80.0"]);
        assert_eq!(words(&lines[4]), ["2", "blue", "no", "graph", "-", "-", "50.0", "max", "-", "25.0", "200.0"]);
        assert_eq!(words(&lines[5]), ["3", "green", "(new)", "-", "-", "-", "-", "20.0", "-", "-", "-"]);
        // The first tenant is selected: its row is drawn reversed, its elements below.
        let terminal_row = |y: u16| {
            let mut terminal = Terminal::new(TestBackend::new(100, 24)).unwrap();
            terminal.draw(|frame| draw(frame, &interval, &View::default(), "m", "1 s")).unwrap();
            terminal.backend().buffer()[(2, y)].modifier
        };
        assert!(terminal_row(3).contains(Modifier::REVERSED));
        assert!(!terminal_row(4).contains(Modifier::REVERSED));
        let at = lines.iter().position(|l| l.contains("elements of tenant red (4)")).expect("the element table");
        assert_eq!(words(&lines[at + 1]), ["ELEMENT", "CLASS", "IN/s", "OUT/s", "DROPS/s", "QUEUE"]);
        assert_eq!(words(&lines[at + 2]), ["src", "InfiniteSource", "0", "2000", "0", "-"]);
        assert_eq!(words(&lines[at + 4]), ["q", "Queue", "2000", "1800", "200", "5/100"]);
        assert_eq!(words(&lines[at + 5]), ["d", "Discard", "1800", "0", "1800", "-"]);
        assert!(lines[23].starts_with("q quit"), "{}", lines[23]);
    }

    #[test]
    fn selection_follows_the_tenant_and_the_order_changes() {
        let interval = two_tenants();
        let mut view = View::default();
        view.step(&interval, 1);
        assert_eq!(view.selected, Some(2));
        let lines = screen(&interval, &view, 100, 24);
        assert!(lines.iter().any(|l| l.contains("tenant blue: no graph")), "{lines:#?}");
        view.step(&interval, 5);
        assert_eq!(view.selected, Some(3));
        view.step(&interval, -9);
        assert_eq!(view.selected, Some(1));
        // By CPU: blue (50%) before red (20%), green (no rate yet) last; red stays selected.
        view.sort = SortKey::Id.next().next().next();
        assert_eq!(view.sort, SortKey::Cpu);
        let ids: Vec<u32> = view.order(&interval).iter().map(|t| t.id).collect();
        assert_eq!(ids, [2, 1, 3]);
        let lines = screen(&interval, &view, 100, 24);
        assert!(lines[0].starts_with("vdpctl top, every 1 s, sorted by cpu:"), "{}", lines[0]);
        assert_eq!(words(&lines[3])[..2], ["2", "blue"]);
        assert!(lines.iter().any(|l| l.contains("elements of tenant red")), "{lines:#?}");
        assert_eq!(view.sort.next(), SortKey::Id);
    }

    #[test]
    fn no_tenants_and_a_small_screen_draw_without_panicking() {
        let empty = Interval { seconds: 1.0, tenants: Vec::new() };
        let lines = screen(&empty, &View::default(), 100, 12);
        assert!(lines[1].contains("tenants (0)"), "{lines:#?}");
        assert!(lines.iter().any(|l| l.contains("no tenants")), "{lines:#?}");
        let mut view = View::default();
        view.step(&empty, 1);
        assert_eq!(view.selected, None);
        screen(&two_tenants(), &View::default(), 20, 5);
        screen(&two_tenants(), &View::default(), 1, 1);
    }
}
