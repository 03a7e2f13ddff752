//! What a reader of a rendered article would notice (styles, numbering,
//! placeholders, layout), what must never reach the terminal, and the limits
//! that keep hostile HTML from freezing the reader, checked on real articles too.

use super::prepare::{MAX_DEPTH, MAX_FORMATTING, MAX_TAGS, Token, Tokens};
use super::*;

fn render(html: &str, width: u16) -> Rendered {
    render_article(html, width, &ArticleStyles::colored())
}

fn text(line: &Line) -> String {
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

fn texts(rendered: &Rendered) -> Vec<String> {
    rendered.lines.iter().map(text).collect()
}

/// The style of the first span whose text contains `word`.
fn style_of(rendered: &Rendered, word: &str) -> Style {
    rendered
        .lines
        .iter()
        .flat_map(|l| &l.spans)
        .find(|s| s.content.contains(word))
        .unwrap_or_else(|| panic!("{word:?} not in {:#?}", texts(rendered)))
        .style
}

fn is_code(line: &Line) -> bool {
    let code = ArticleStyles::colored().code;
    line.spans.iter().any(|s| s.style.fg == code.fg)
}

/// Asserts what holds for every rendering: nothing for the terminal to act
/// on, and no line wider than the pane but code.
fn assert_sound(rendered: &Rendered, width: u16) {
    let width = usize::from(width.max(MIN_WIDTH));
    for line in &rendered.lines {
        let t = text(line);
        assert!(
            !t.chars().any(|c| is_forbidden(c) || c == '\t' || c == '\n'),
            "control character in {t:?}"
        );
        assert!(line.width() <= width || is_code(line), "too wide: {t:?}");
    }
    for s in rendered
        .links
        .iter()
        .chain(rendered.images.iter().flat_map(|i| [&i.src, &i.alt]))
    {
        assert!(!s.chars().any(is_forbidden), "control character in {s:?}");
    }
}

#[test]
fn headings_are_styled_and_keep_their_level() {
    let r = render("<h1>Big news</h1><p>Body.</p><h3>Details</h3>", 80);
    let heading = ArticleStyles::colored().heading;
    assert_eq!(texts(&r), ["# Big news", "", "Body.", "", "### Details"]);
    assert!(r.lines[0].spans.iter().all(|s| s.style == heading));
    assert!(r.lines[4].spans.iter().all(|s| s.style == heading));
    assert_eq!(style_of(&r, "Body"), Style::new());
}

#[test]
fn wrapped_heading_lines_all_carry_the_heading_style() {
    let r = render(
        "<h2>A heading long enough to wrap at twenty columns</h2>",
        20,
    );
    assert!(r.lines.len() > 1);
    let heading = ArticleStyles::colored().heading;
    for line in &r.lines {
        assert!(text(line).starts_with("## "), "{:?}", texts(&r));
        assert!(line.spans.iter().all(|s| s.style == heading));
    }
}

#[test]
fn bold_italic_struck_and_inline_code_are_styled() {
    let styles = ArticleStyles::colored();
    let r = render(
        "<p><b>loud</b> <em>soft</em> <del>gone</del> <code>call()</code></p>",
        80,
    );
    assert_eq!(texts(&r), ["loud soft gone call()"]);
    assert_eq!(style_of(&r, "loud"), styles.strong);
    assert_eq!(style_of(&r, "soft"), styles.emphasis);
    assert_eq!(style_of(&r, "gone"), styles.strike);
    assert_eq!(style_of(&r, "call()"), styles.code);
}

#[test]
fn block_quotes_get_a_gutter_in_the_quote_style() {
    let r = render(
        "<blockquote><p>Someone said this, at some length.</p><blockquote>Nested.</blockquote></blockquote>",
        24,
    );
    assert_eq!(
        texts(&r),
        [
            "│ Someone said this, at",
            "│ some length.",
            "│",
            "│ │ Nested."
        ]
    );
    assert_eq!(r.lines[0].spans[0].style, ArticleStyles::colored().quote);
}

#[test]
fn lists_keep_bullets_and_numbers() {
    let r = render(
        "<ul><li>apples</li><li>pears<ol><li>green</li><li>red</li></ol></li></ul>",
        80,
    );
    assert_eq!(texts(&r), ["• apples", "• pears", "  1. green", "  2. red"]);
}

#[test]
fn preformatted_lines_stay_whole_and_are_styled_as_code() {
    let long = format!("let total = {};", "x + ".repeat(30));
    let html = format!(
        "<p>Before.</p><pre>{long}\n    indented\n\n\n\tafter blanks</pre><blockquote><pre>{long}</pre></blockquote>"
    );
    let r = render(&html, 40);
    let t = texts(&r);
    assert!(t.contains(&long), "{t:#?}");
    assert!(t.contains(&"    indented".to_string()));
    assert!(t.contains(&format!("│ {long}")));
    let at = t.iter().position(|l| l == &long).unwrap();
    assert_eq!(t[at + 2..at + 4], ["", ""], "blank lines inside <pre> kept");
    assert!(t[at + 4].ends_with("after blanks"));
    assert!(r.lines[at].width() > 40);
    assert_eq!(style_of(&r, "let total"), ArticleStyles::colored().code);
    assert_sound(&r, 40);
}

#[test]
fn table_cells_share_a_row() {
    let r = render(
        "<table><tr><th>Name</th><th>Price</th></tr><tr><td>Tea</td><td>3.50</td></tr></table>",
        80,
    );
    let t = texts(&r);
    assert!(
        t.iter().any(|l| l.contains("Name") && l.contains("Price")),
        "{t:#?}"
    );
    let row = t.iter().find(|l| l.contains("Tea")).unwrap();
    assert!(row.contains("3.50"));
    assert!(row.find("Tea") < row.find("3.50"));
}

#[test]
fn links_are_numbered_once_per_target_and_listed_at_the_end() {
    let styles = ArticleStyles::colored();
    let r = render(
        r#"<p>Read <a href="https://a.example/one">the post</a>, <a href="https://b.example/">this</a>
        and <a href="https://a.example/one">the post again</a>. <a href="mailto:me@example.com">Mail</a>.</p>"#,
        80,
    );
    assert_eq!(
        r.links,
        [
            "https://a.example/one",
            "https://b.example/",
            "mailto:me@example.com"
        ]
    );
    let t = texts(&r);
    assert_eq!(
        t[0],
        "Read the post [1], this [2] and the post again [1]. Mail [3]."
    );
    assert_eq!(
        t[1..],
        [
            "",
            "Links:  (its number opens a link)",
            "[1] https://a.example/one",
            "[2] https://b.example/",
            "[3] mailto:me@example.com"
        ]
    );
    assert_eq!(style_of(&r, "the post"), styles.link);
    assert_eq!(style_of(&r, "[2]"), styles.link_number);
    assert_eq!(style_of(&r, "Links:"), styles.heading);
}

#[test]
fn adjacent_links_to_one_target_each_get_their_number() {
    let r = render(
        r#"<p><a href="https://a.example/">one</a><a href="https://a.example/">two</a></p>"#,
        80,
    );
    assert_eq!(texts(&r)[0], "one [1]two [1]");
    let mut numbers = r.lines[0].spans.iter().filter(|s| s.content == "[1]");
    assert!(numbers.all(|s| s.style == ArticleStyles::colored().link_number));
}

#[test]
fn unsafe_and_relative_targets_are_plain_text() {
    let r = render(
        r#"<p><a href="javascript:alert(1)">click</a> <a href="java&#9;script:x">tab</a>
        <a href="&#1;javascript:x">hidden</a> <a href="data:text/html,x">data</a> <a href="/local">here</a></p>"#,
        80,
    );
    assert!(r.links.is_empty());
    assert_eq!(texts(&r), ["click tab hidden data here"]);
    assert_eq!(style_of(&r, "click"), Style::new());
}

#[test]
fn long_link_targets_wrap_in_the_list() {
    let target = format!("https://example.com/{}", "segment/".repeat(20));
    let r = render(&format!(r#"<a href="{target}">x</a>"#), 40);
    assert_sound(&r, 40);
    let t = texts(&r);
    assert!(t[2].starts_with("Links:"));
    assert_eq!(t[3..].concat(), format!("[1] {target}"));
}

#[test]
fn images_get_numbered_placeholders_on_lines_of_their_own() {
    let styles = ArticleStyles::colored();
    let r = render(
        r#"<p>Text before <img src="https://x.example/a.png" alt="A   chart"> and after.</p>
        <p><a href="https://x.example/"><img src="https://x.example/logo.png"></a></p>
        <figure><img src="https://x.example/b.png" alt=""><figcaption>Caption</figcaption></figure>"#,
        80,
    );
    let t = texts(&r);
    let srcs: Vec<_> = r.images.iter().map(|i| i.src.as_str()).collect();
    assert_eq!(
        srcs,
        [
            "https://x.example/a.png",
            "https://x.example/logo.png",
            "https://x.example/b.png"
        ]
    );
    assert_eq!(r.images[0].alt, "A chart");
    assert_eq!(t[r.images[0].line], "[image 1: A chart]");
    assert_eq!(
        t[r.images[1].line], "[image 2] [1]",
        "a linked image keeps its link"
    );
    assert_eq!(t[r.images[2].line], "[image 3]");
    assert_eq!(r.lines[r.images[0].line].spans[0].style, styles.image);
    assert!(t.contains(&"Text before".to_string()));
    assert!(t.contains(&"and after.".to_string()));
    assert_eq!(r.links, ["https://x.example/"]);
}

#[test]
fn long_alt_text_is_shortened_to_fit_the_line() {
    let r = render(
        &format!(
            r#"<img src="https://x.example/a.png" alt="{}">"#,
            "word ".repeat(50)
        ),
        40,
    );
    let line = &r.lines[r.images[0].line];
    assert_eq!(r.lines.len(), 1);
    assert!(line.width() <= 40);
    assert!(text(line).ends_with("…]"));
    assert_eq!(r.images[0].alt.len(), "word ".repeat(50).trim().len());
}

#[test]
fn escape_sequences_and_bidi_controls_never_reach_the_terminal() {
    let html = "<p>red&#27;[31m text&#27;[0m \u{1b}[2J \u{9b}31m C1 &#x9b;x &#x202e;evil&#x2066; \u{7}bell</p>\
        <p><a href=\"https://x.example/&#27;[2Jpath\u{202e}\">link&#27;]8;;</a></p>\
        <img src=\"https://x.example/&#27;.png\" alt=\"&#27;]0;title&#7; &#x1b;[5m\">\
        <pre>\tcode&#27;[1m</pre>";
    let r = render(html, 80);
    assert_sound(&r, 80);
    let t = texts(&r).join("\n");
    assert!(t.contains("red[31m text[0m"), "{t}");
    assert!(t.contains("evil"));
    assert_eq!(r.links, ["https://x.example/[2Jpath"]);
    assert_eq!(r.images[0].src, "https://x.example/.png");
    assert_eq!(r.images[0].alt, "]0;title [5m");
    assert!(
        t.contains("        code[1m"),
        "tabs in <pre> become spaces: {t}"
    );
}

#[test]
fn long_words_are_broken_at_the_width() {
    let word = "x".repeat(200);
    let r = render(&format!("<p>A {word} b</p>"), 30);
    assert_sound(&r, 30);
    assert_eq!(texts(&r).concat().matches('x').count(), 200);
}

#[test]
fn narrow_panes_are_laid_out_at_the_minimum_width() {
    let r = render("<p>Some words that need wrapping somewhere.</p>", 5);
    assert!(r.lines.iter().any(|l| l.width() > 5));
    assert_sound(&r, MIN_WIDTH);
}

#[test]
fn twenty_thousand_nested_divs_keep_their_text() {
    let html = format!(
        "{}Bottom text.{}<p>After.</p>",
        "<div>".repeat(20_000),
        "</div>".repeat(20_000)
    );
    let r = render(&html, 80);
    assert_eq!(texts(&r), ["Bottom text.", "", "After."]);
}

/// The depth of the deepest text in the tree html5ever builds from `html`.
fn text_depth(html: &str) -> usize {
    let document = scraper::Html::parse_document(html);
    document
        .tree
        .nodes()
        .filter(|n| n.value().is_text())
        .map(|n| n.ancestors().count())
        .max()
        .unwrap_or(0)
}

#[test]
fn nesting_attacks_stay_within_the_depth_limit() {
    let bound = 4 * MAX_DEPTH + MAX_FORMATTING + 8;
    for unit in [
        "<div>",
        "<blockquote><ul><li>",
        "<span><div></span>",
        "<div><table><tr><td></div>",
        "<b><div></b>",
        "<div><i></div>",
        "<svg><g>",
        "<select><div></select>",
    ] {
        let html = format!("{}deep", unit.repeat(3_000));
        let prepared = prepare(&html);
        let depth = text_depth(&prepared.html);
        assert!(depth <= bound, "{unit}: {depth}");
        let r = render(&html, 80);
        // Deep enough, the text wraps a letter or two a line between gutters;
        // html2text shows none of the text inside an <svg>.
        let letters: String = texts(&r)
            .concat()
            .chars()
            .filter(|c| c.is_alphabetic())
            .collect();
        assert!(letters.contains("deep") || unit.contains("svg"), "{unit}");
        assert!(!r.lines.is_empty());
        assert_sound(&r, 80);
    }
}

#[test]
fn unclosed_formatting_elements_cannot_multiply_the_document() {
    // The parser re-opens every unclosed formatting element in each new block:
    // 200 of them around 2,000 paragraphs would make 400,000 elements.
    let mut html: String = (0..200).map(|i| format!("<b class=c{i}>")).collect();
    html.push_str(&"<p>x</p>".repeat(2_000));
    let prepared = prepare(&html);
    let document = scraper::Html::parse_document(&prepared.html);
    let elements = document
        .tree
        .nodes()
        .filter(|n| n.value().is_element())
        .count();
    assert!(elements <= 2_000 * (MAX_FORMATTING + 2), "{elements}");
    assert!(text_depth(&prepared.html) <= MAX_FORMATTING + 8);
}

#[test]
fn a_one_megabyte_article_renders_whole() {
    let paragraph = r#"<p>A <b>typical</b> paragraph with <a href="https://example.com/x">a link</a> and enough words to wrap.</p>"#;
    let mut html = paragraph.repeat(1_000_000 / paragraph.len());
    html.push_str("<p>The very end.</p>");
    let r = render(&html, 80);
    let t = texts(&r);
    assert!(t.iter().any(|l| l == "The very end."));
    assert!(!t.iter().any(|l| l == CUT_NOTE));
    assert_eq!(r.links, ["https://example.com/x"]);
}

#[test]
fn bodies_over_the_size_limit_are_cut_with_a_note() {
    let paragraph = "<p>Words, words, words.</p>";
    let html = paragraph.repeat(MAX_HTML_BYTES / paragraph.len() + 10);
    let (cut, was_cut) = cut_to_size(&html);
    assert!(was_cut && cut.len() <= MAX_HTML_BYTES);
    let r = render(&format!("é{html}"), 80);
    let t = texts(&r);
    assert_eq!(t.last().unwrap(), CUT_NOTE);
    assert_eq!(t[t.len() - 2], "");
    assert_eq!(style_of(&r, CUT_NOTE), ArticleStyles::colored().note);
}

#[test]
fn too_many_tags_are_cut_with_a_note() {
    let r = render(&"<i>x</i>".repeat(MAX_TAGS), 80);
    assert_eq!(texts(&r).last().unwrap(), CUT_NOTE);
}

#[test]
fn a_table_with_three_hundred_columns_stays_within_the_width() {
    let row = |tag: &str| -> String {
        (0..300)
            .map(|i| format!("<{tag}>cell{i}</{tag}>"))
            .collect()
    };
    let html = format!(
        "<table><tr>{}</tr><tr>{}</tr></table>",
        row("th"),
        row("td")
    );
    let r = render(&html, 80);
    assert_sound(&r, 80);
    let t = texts(&r).concat();
    assert!(t.contains("cell0") && t.contains("cell299"));
}

#[test]
fn malformed_html_still_shows_its_text() {
    let r = render(
        "</p><p>unclosed <b>bold <i>both</p></b> stray</p></div><li>item<table><td>cell<tr>row<p>para",
        80,
    );
    let t = texts(&r).join(" ");
    for word in [
        "unclosed", "bold", "both", "stray", "item", "cell", "row", "para",
    ] {
        assert!(t.contains(word), "{word} missing from {t}");
    }
}

#[test]
fn an_empty_body_renders_nothing() {
    assert_eq!(render("", 80), Rendered::default());
    assert_eq!(render(" \n\t ", 80), Rendered::default());
}

#[test]
fn a_body_with_nothing_to_read_says_so() {
    let r = render("<script>alert(1)</script><iframe src=x></iframe>", 80);
    assert_eq!(texts(&r), [EMPTY_NOTE]);
}

#[test]
fn plain_text_keeps_its_paragraphs_and_line_breaks() {
    let r = render(
        "First paragraph, line one\nline two\n\nSecond paragraph & more < less\r\n",
        80,
    );
    assert_eq!(
        texts(&r),
        [
            "First paragraph, line one",
            "line two",
            "",
            "Second paragraph & more < less"
        ]
    );
}

#[test]
fn the_plain_text_fallback_keeps_blocks_apart() {
    let text = text_of("<p>one <b>two</b></p><div>three<br>four</div><script>no</script>");
    assert_eq!(text_to_html(&text), "<p>one two</p><p>three<br>four</p>");
}

#[test]
fn tokens_give_back_their_input() {
    let html = r#"a<b x="1>2" y='>'>c</b><!-- <p> --><script>if (a<b) "</div>"</script ><br/>< x <!doctype html></ y><img src=x"#;
    let tokens: Vec<_> = Tokens::new(html).collect();
    let joined: String = tokens
        .iter()
        .map(|t| match *t {
            Token::Text(s) | Token::Other(s) => s,
            Token::Start { raw, .. } | Token::End { raw, .. } => raw,
        })
        .collect();
    assert_eq!(joined, html);
    assert!(tokens.contains(&Token::Start {
        name: "b",
        raw: r#"<b x="1>2" y='>'>"#,
        self_closing: false
    }));
    assert!(tokens.contains(&Token::Other(r#"if (a<b) "</div>""#)));
    assert_eq!(tokens.last(), Some(&Token::Other("<img src=x")));
}

#[test]
fn plain_styles_use_no_colour() {
    let s = ArticleStyles::plain();
    for style in [
        s.heading,
        s.strong,
        s.emphasis,
        s.strike,
        s.code,
        s.quote,
        s.link,
        s.link_number,
        s.image,
        s.note,
    ] {
        assert_eq!((style.fg, style.bg), (None, None));
        assert!(!style.add_modifier.is_empty());
    }
}

/// `../shared` sits next to the checkout in CI, and next to this worktree.
fn seed_articles() -> Option<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/seed/articles.json"
    );
    std::fs::read_to_string(path).ok()
}

#[test]
fn real_articles_render_with_all_their_links_and_images() {
    let Some(json) = seed_articles() else {
        eprintln!("SKIPPED render seed articles: ../shared/fixtures/seed/articles.json not found");
        return;
    };
    let seed: serde_json::Value = serde_json::from_str(&json).unwrap();
    let articles = seed["articles"].as_array().unwrap();
    assert!(!articles.is_empty());
    let a = scraper::Selector::parse("a[href]").unwrap();
    let img = scraper::Selector::parse("img[src]").unwrap();
    for article in articles {
        let title = article["title"].as_str().unwrap();
        let html = article["description"].as_str().unwrap();
        let document = scraper::Html::parse_fragment(html);
        let targets: Vec<String> = document
            .select(&a)
            .map(|e| clean(e.value().attr("href").unwrap()).trim().to_string())
            .filter(|t| is_safe_target(t))
            .collect();
        let images = document
            .select(&img)
            .filter(|e| !e.value().attr("src").unwrap().is_empty())
            .count();
        for width in [80, 200] {
            let r = render(html, width);
            assert!(!r.lines.is_empty(), "{title}");
            assert_sound(&r, width);
            for target in &targets {
                assert!(r.links.contains(target), "{title}: {target} not listed");
            }
            let t = texts(&r);
            if !r.links.is_empty() {
                let at = t.iter().position(|l| l.starts_with("Links:")).unwrap();
                let list = t[at + 1..].concat();
                for (i, target) in r.links.iter().enumerate() {
                    assert!(list.contains(&format!("[{}] {target}", i + 1)), "{title}");
                }
            }
            assert_eq!(r.images.len(), images, "{title} at {width}");
            for (i, image) in r.images.iter().enumerate() {
                let placeholder = format!("[image {}", i + 1);
                assert!(
                    t[image.line].starts_with(&placeholder),
                    "{title}: {placeholder}"
                );
            }
        }
    }
}
