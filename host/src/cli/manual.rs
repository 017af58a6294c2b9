//! `socklab completions` and `socklab man`: both generated from the same clap definitions
//! as `--help` ([`super::command`]), so a new flag shows up everywhere without anyone
//! remembering to document it twice.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use clap_complete::Shell;

pub(super) const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  source <(socklab completions bash)      this bash session (or put it in ~/.bashrc)
  socklab completions bash > ~/.local/share/bash-completion/completions/socklab
  socklab completions zsh > ~/.zfunc/_socklab    (fpath+=~/.zfunc before compinit)
  socklab completions fish > ~/.config/fish/completions/socklab.fish";

pub(super) const MAN_EXAMPLES: &str = "\
Examples:
  socklab man | man -l -                  read the manual page of socklab
  socklab man serve all | man -l -        the page of `socklab serve all`
  socklab man --dir ~/.local/share/man/man1   install a page for every command";

/// Flags of `socklab completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to write the script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Flags of `socklab man`.
#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// The command whose page to print, e.g. `serve all` (default: socklab itself).
    #[arg(value_name = "COMMAND", conflicts_with = "dir")]
    pub command: Vec<String>,
    /// Write the page of every command to DIR (socklab.1, socklab-serve.1,
    /// socklab-serve-echo.1, ...) instead of printing one.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Print the completion script for `args.shell` of `cmd` (the whole command line) on
/// standard output.
pub fn completions(args: &CompletionsArgs, mut cmd: clap::Command) -> ExitCode {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "socklab", &mut out);
    write_stdout(&out)
}

/// The width the text of `--help` is laid out in for a page: a man page's text column
/// on an 80-column terminal.
pub const PAGE_WIDTH: usize = 78;

/// Print one manual page of `cmd` (the whole command line, with the text it renders
/// into help wrapped at [`PAGE_WIDTH`]) on standard output, or write them all to
/// `--dir`.
pub fn man(args: &ManArgs, cmd: clap::Command) -> ExitCode {
    let mut cmd = cmd.disable_help_subcommand(true);
    cmd.build();
    if let Some(dir) = &args.dir {
        return match write_all_pages(cmd, dir) {
            Ok(n) => {
                eprintln!("wrote {n} manual pages to {}", dir.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!(
                    "socklab: cannot write the manual pages to {}: {}",
                    dir.display(),
                    crate::os_error::describe(&e)
                );
                ExitCode::FAILURE
            }
        };
    }
    let mut page = cmd;
    for (i, name) in args.command.iter().enumerate() {
        let Some(sub) = page.find_subcommand(name).cloned() else {
            let so_far = std::iter::once("socklab")
                .chain(args.command[..i].iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" ");
            eprintln!("socklab: `{so_far}` has no command {name:?} (see `{so_far} --help`)");
            return ExitCode::from(2);
        };
        page = sub;
    }
    let mut out = Vec::new();
    render(page, &mut out).expect("rendering to memory cannot fail");
    write_stdout(&out)
}

/// One page per command, the way `git` ships `git-commit(1)`: the main page's list of
/// commands refers to them by those names.
fn write_all_pages(cmd: clap::Command, dir: &Path) -> io::Result<usize> {
    std::fs::create_dir_all(dir)?;
    let mut todo = vec![cmd];
    let mut written = 0;
    while let Some(cmd) = todo.pop() {
        todo.extend(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
        let man = clap_mangen::Man::new(cmd.clone());
        let mut page = Vec::new();
        render(cmd, &mut page)?;
        std::fs::write(dir.join(man.get_filename()), page)?;
        written += 1;
    }
    Ok(written)
}

/// clap_mangen's page, except for the text after the options (examples, exit status):
/// clap_mangen fills it as prose under "EXTRA", which scrambles the columns of the
/// examples. Here each of its headings (`Examples:`) becomes a section and the lines
/// under it are kept as they are.
fn render(cmd: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    let extra = cmd.get_after_help().map(ToString::to_string);
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(out)?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(out)?;
    }
    if let Some(text) = extra {
        out.write_all(preformatted(&text).as_bytes())?;
    }
    if cmd.get_version().is_some() {
        man.render_version_section(out)?;
    }
    Ok(())
}

/// Help text as roff: an unindented line ending in `:` is a section heading, the rest
/// is shown as written (no filling, no adjusting).
fn preformatted(text: &str) -> String {
    let mut roff = String::new();
    let mut open = false;
    for line in text.trim_end().lines() {
        if !line.starts_with(' ') && line.ends_with(':') && !line.is_empty() {
            if open {
                roff.push_str(".fi\n");
            }
            // "Options every server takes (after ...):": the words in brackets are a
            // note under the heading, not part of it.
            let line = line.trim_end_matches(':');
            let (title, note) = match line.split_once(" (") {
                Some((title, note)) => (title, Some(note.trim_end_matches(')'))),
                None => (line, None),
            };
            roff.push_str(&format!(".SH \"{}\"\n", escape(&title.to_uppercase())));
            if let Some(note) = note {
                roff.push_str(&format!("{}.\n", escape(&capitalised(note))));
            }
            roff.push_str(".nf\n");
            open = true;
            continue;
        }
        if !open {
            roff.push_str(".SH NOTES\n.nf\n");
            open = true;
        }
        roff.push_str(&escape(line));
        roff.push('\n');
    }
    if open {
        roff.push_str(".fi\n");
    }
    roff
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A line of text that roff shows as written: backslashes and hyphens escaped, and a
/// line that would start with a control character (`.` or `'`) guarded.
fn escape(line: &str) -> String {
    let text = line.replace('\\', "\\e").replace('-', "\\-");
    if text.starts_with(['.', '\'']) {
        format!("\\&{text}")
    } else {
        text
    }
}

/// A closed pipe (`socklab man | head`) is not an error worth a message.
fn write_stdout(bytes: &[u8]) -> ExitCode {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "socklab: cannot write to standard output: {}",
                crate::os_error::describe(&e)
            );
            ExitCode::FAILURE
        }
    }
}
