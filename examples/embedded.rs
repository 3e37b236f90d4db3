//! Using medql as a library: load the demo benchmark, run a query, and read
//! the Arrow batches directly.
//!
//! cargo run --example embedded

use medql::render::Format;
use medql::{LoadSpec, Outcome, Session};

#[tokio::main]
async fn main() -> medql::Result<()> {
    let mut session = Session::load(&LoadSpec::default()).await?;
    let outcomes = session
        .run(
            "where #CT by model score acc, n, ci sort acc desc",
            "example",
        )
        .await?;
    for o in outcomes {
        if let Outcome::Table(t) = o {
            print!("{}", t.render(Format::Table)?);
            println!(
                "{} rows, columns: {:?}",
                t.num_rows(),
                t.schema
                    .fields()
                    .iter()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
            );
        }
    }
    Ok(())
}
