//! Rendering one article body for the article pane: a typical ~5 KB post
//! (headings, paragraphs with links and emphasis, a list, a code block, a
//! table, an image) at 80 columns, and a hostile body of 5,000 nested `<div>`s,
//! which the renderer must flatten instead of handing html2text a quadratic
//! amount of work. Then full text: the readable part found in a saved blog
//! page, and in each of the seed blog's six articles set in a page with a
//! site's header, menus, sidebar and footer (when `../shared` is there).

use criterion::{Criterion, criterion_group, criterion_main};
use tidings::render::{ArticleStyles, render_article};

const TYPICAL: &str = r##"
<p><em>This post was contributed by a guest author from the storage team.</em></p>
<h2>Why we moved our indexes</h2>
<p>For three years our search cluster ran on a <a href="https://example.com/docs/cluster">single large machine</a>.
It was <strong>simple to run</strong> and fast enough, until the nightly import started to overlap
with the morning traffic. Queries that took 40&nbsp;ms began to take 400&nbsp;ms, and the
<a href="https://example.com/status">status page</a> turned yellow every day at nine.</p>
<p>We looked at three options: a bigger machine, read replicas, and sharding the index by tenant.
The first only delays the problem; the second doubles the import work. We chose the third, and
this post describes how we did it without downtime, what went wrong, and what we would do
differently. If you only want the numbers, <a href="#results">skip to the results</a>.</p>
<h3>What sharding by tenant means</h3>
<p>Every document belongs to exactly one tenant, and no query ever crosses tenants. That makes the
tenant id a natural shard key: a query is routed to one shard, and a shard can be moved, rebuilt
or throttled without touching the others. The catch is <em>skew</em>: our largest tenant holds
eleven percent of all documents, so shards cannot simply be equal slices of the id space.</p>
<ul>
  <li>Tenants are assigned to shards by a <code>placement</code> table, not by hashing.</li>
  <li>Large tenants get a shard of their own; small ones share.</li>
  <li>Moving a tenant copies its documents, then flips one row in <code>placement</code>.</li>
  <li>Reads during a move go to the old shard until the flip; writes go to both.</li>
</ul>
<figure><img src="https://example.com/img/shards.png" alt="Tenants spread over six shards, the largest one alone"><figcaption>Six shards after the first rebalancing.</figcaption></figure>
<h3>The move, step by step</h3>
<p>The mover is a small service with one job. It takes a tenant and a target shard, copies the
tenant's documents in batches of a thousand, and then replays the writes that arrived during the
copy from the <a href="https://example.com/docs/changelog">change log</a>:</p>
<pre><code>fn move_tenant(tenant: TenantId, to: ShardId) -&gt; Result&lt;(), MoveError&gt; {
    let from = placement::shard_of(tenant)?;
    let mark = changelog::position()?;
    for batch in documents::of(tenant, from).chunks(1_000) {
        shards::write(to, batch)?;
    }
    changelog::replay(tenant, mark, to)?;
    placement::flip(tenant, to)
}</code></pre>
<p>The <code>flip</code> is a single-row update in the same database that routes queries, so a
query sees either the old placement or the new one, never a mixture.</p>
<h3>What went wrong</h3>
<p>Two things surprised us. First, the change log was not as ordered as we believed: writes from
different application servers could arrive a few milliseconds out of order, and a replay that
applied them <em>in arrival order</em> sometimes resurrected a deleted document. The fix was to
replay by the version number each write carries, which the <a href="https://example.com/docs/versions">versioning
guide</a> had recommended all along.</p>
<p>Second, moving a large tenant while its users were busy doubled their write latency for the
length of the copy, because every write went to two shards. We now move large tenants at night
and throttle the copy when the target shard is under load:</p>
<ol>
  <li>Check the target shard's queue depth before every batch.</li>
  <li>Sleep for <code>depth &times; 2 ms</code> when it is above fifty.</li>
  <li>Give up and retry the next night when a move takes longer than four hours.</li>
</ol>
<p>None of this was hard, but all of it was <strong>invisible in testing</strong>, where the change log
was always in order and no tenant was ever busy. We have since added a <a href="https://example.com/code/chaos">chaos
test</a> that shuffles the log and a load generator that keeps one tenant hot during every move.</p>
<h3>Results</h3>
<table>
  <thead><tr><th>Metric</th><th>Before</th><th>After</th></tr></thead>
  <tbody>
    <tr><td>Median query</td><td>38 ms</td><td>9 ms</td></tr>
    <tr><td>99th percentile</td><td>410 ms</td><td>31 ms</td></tr>
    <tr><td>Nightly import</td><td>5 h 10 min</td><td>48 min</td></tr>
  </tbody>
</table>
<p>The numbers above are medians over the last four weeks before and after the move, measured
at the load balancer, so they include network time. The import time is the wall-clock time of the
whole nightly job, from the first batch read to the last shard acknowledging its writes.</p>
<blockquote><p>The best part is that the slow mornings are gone: nobody has looked at the status page
before coffee since March.</p></blockquote>
<p>The mover and the placement table are <a href="https://example.com/code/mover">open source</a>.
Questions are welcome on the <a href="https://example.com/forum">forum</a>, and if this kind of
work sounds fun, <a href="https://example.com/jobs">we are hiring</a>.</p>
"##;

fn render(c: &mut Criterion) {
    let styles = ArticleStyles::colored();
    let nested = format!(
        "{}Deep text.{}",
        "<div>".repeat(5_000),
        "</div>".repeat(5_000)
    );
    let mut group = c.benchmark_group("render");
    group.bench_function("typical_5k_at_80", |b| {
        b.iter(|| render_article(TYPICAL, 80, &styles))
    });
    group.bench_function("nested_divs_5000_at_80", |b| {
        b.iter(|| render_article(&nested, 80, &styles))
    });
    group.finish();
}

/// The seed blog's articles, each inside a page of its site, with its address.
fn seed_pages() -> Option<Vec<(String, String)>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/seed/articles.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!(
            "full_text/seed_blog: SKIPPED, {} is not there",
            path.display()
        );
        return None;
    };
    let seed: serde_json::Value = serde_json::from_str(&text).ok()?;
    let pages = seed["articles"]
        .as_array()?
        .iter()
        .map(|a| {
            let title = a["title"].as_str().unwrap_or_default();
            let page = format!(
                "<!DOCTYPE html><html><head><title>{title} | AWS Open Source Blog</title></head><body>\
                 <header><nav><ul><li><a href=\"/\">AWS</a></li><li><a href=\"/products\">Products</a></li>\
                 <li><a href=\"/pricing\">Pricing</a></li><li><a href=\"/docs\">Documentation</a></li></ul></nav></header>\
                 <aside><h3>Resources</h3><ul><li><a href=\"/a\">Open Source at AWS</a></li></ul></aside>\
                 <main><article><h1>{title}</h1><section>{}</section></article>\
                 <div class=\"comments\"><h3>Comments</h3></div></main>\
                 <footer><p>Sign In to the Console. Learn About AWS. What Is Cloud Computing?</p></footer></body></html>",
                a["description"].as_str().unwrap_or_default()
            );
            (a["link"].as_str().unwrap_or_default().to_string(), page)
        })
        .collect();
    Some(pages)
}

fn full_text(c: &mut Criterion) {
    let mut group = c.benchmark_group("full_text");
    let saved = include_str!("../tests/fixtures/pages/press-blog.html");
    group.bench_function("saved_blog_page", |b| {
        b.iter(|| {
            tidings::fulltext::extract(saved.as_bytes(), None, "https://crumb.example/p/").unwrap()
        })
    });
    if let Some(pages) = seed_pages() {
        // Per iteration: all six pages.
        group.bench_function("seed_blog_six_pages", |b| {
            b.iter(|| {
                for (url, page) in &pages {
                    tidings::fulltext::extract(page.as_bytes(), None, url).unwrap();
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, render, full_text);
criterion_main!(benches);
