//! Progress of loading and scoring: counters the loaders bump as they go,
//! and a line on standard error that redraws them while a load takes more
//! than a second. The line is only drawn on a terminal; piped output never
//! sees it.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

static STAGE: AtomicU8 = AtomicU8::new(0);
static FILES_DONE: AtomicU64 = AtomicU64::new(0);
static FILES_TOTAL: AtomicU64 = AtomicU64::new(0);
static ROWS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static SCORED: AtomicU64 = AtomicU64::new(0);
static TO_SCORE: AtomicU64 = AtomicU64::new(0);

/// What loading is doing now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Idle = 0,
    Items = 1,
    Predictions = 2,
    Scoring = 3,
}

/// Enter a stage; `files` is how many files it will read.
pub fn stage(s: Stage, files: u64) {
    STAGE.store(s as u8, Ordering::Relaxed);
    FILES_DONE.store(0, Ordering::Relaxed);
    FILES_TOTAL.store(files, Ordering::Relaxed);
    ROWS.store(0, Ordering::Relaxed);
    BYTES.store(0, Ordering::Relaxed);
}

pub fn file_done(rows: u64) {
    FILES_DONE.fetch_add(1, Ordering::Relaxed);
    ROWS.fetch_add(rows, Ordering::Relaxed);
}

pub fn bytes_read(n: u64) {
    BYTES.fetch_add(n, Ordering::Relaxed);
}

/// Scoring is about to extract answers from `n` predictions.
pub fn to_score(n: u64) {
    SCORED.store(0, Ordering::Relaxed);
    TO_SCORE.store(n, Ordering::Relaxed);
    STAGE.store(Stage::Scoring as u8, Ordering::Relaxed);
}

/// Predictions whose answers were extracted (every rule set counts).
pub fn scored(n: u64) {
    SCORED.fetch_add(n, Ordering::Relaxed);
}

/// The progress line for the current counters.
pub fn line(stage_started: Instant) -> Option<String> {
    let secs = stage_started.elapsed().as_secs_f64().max(1e-3);
    let bytes = BYTES.load(Ordering::Relaxed);
    let rate = if bytes > 0 {
        format!(" · {:.1} MB/s", bytes as f64 / 1e6 / secs)
    } else {
        String::new()
    };
    let files = format!(
        "{}/{} files",
        FILES_DONE.load(Ordering::Relaxed),
        FILES_TOTAL.load(Ordering::Relaxed)
    );
    let rows = ROWS.load(Ordering::Relaxed);
    Some(match STAGE.load(Ordering::Relaxed) {
        1 => format!(
            "reading items: {files} · {:.1} MB{rate}",
            bytes as f64 / 1e6
        ),
        2 => format!("reading predictions: {files} · {rows} rows{rate}"),
        3 => {
            let total = TO_SCORE.load(Ordering::Relaxed).max(1);
            let done = SCORED.load(Ordering::Relaxed).min(total);
            format!(
                "scoring: {done} of {total} answers extracted ({:.0}%)",
                100.0 * done as f64 / total as f64
            )
        }
        _ => return None,
    })
}

/// Draws the progress line on standard error until dropped.
pub struct Display {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Display {
    /// Start drawing after `after` (a second, normally), every 100 ms.
    pub fn start(after: Duration) -> Display {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let mut drawn = false;
            let mut last_stage = 0;
            let mut stage_started = start;
            while !flag.load(Ordering::Relaxed) {
                let s = STAGE.load(Ordering::Relaxed);
                if s != last_stage {
                    last_stage = s;
                    stage_started = Instant::now();
                }
                if start.elapsed() >= after {
                    if let Some(l) = line(stage_started) {
                        let mut e = std::io::stderr().lock();
                        let _ = write!(e, "\r\x1b[2K{l}");
                        let _ = e.flush();
                        drawn = true;
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if drawn {
                let mut e = std::io::stderr().lock();
                let _ = write!(e, "\r\x1b[2K");
                let _ = e.flush();
            }
        });
        Display {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        STAGE.store(Stage::Idle as u8, Ordering::Relaxed);
    }
}
