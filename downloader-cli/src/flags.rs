//! Walking a subcommand's arguments: `--name=value`, `--name value`, `--` and
//! positional arguments (a lone `-` is positional: standard input).

/// One argument, as the subcommands see it.
pub enum Arg {
    /// A positional argument (or anything after `--`).
    Positional(String),
    /// `--name` or `-n`, with the value glued on by `=` if there was one.
    Flag {
        /// The flag as written, without the `=value` part.
        name: String,
        /// The `=value` part.
        inline: Option<String>,
    },
}

/// An iterator over a subcommand's arguments that can also hand out a flag's value.
pub struct Flags<'a> {
    args: std::slice::Iter<'a, String>,
    options_done: bool,
}

impl<'a> Flags<'a> {
    /// Walks `args`.
    pub fn new(args: &'a [String]) -> Flags<'a> {
        Flags {
            args: args.iter(),
            options_done: false,
        }
    }

    /// The value of a flag: its inline `=value`, else the next argument.
    pub fn value(&mut self, inline: Option<String>) -> Option<String> {
        inline.or_else(|| self.args.next().cloned())
    }
}

impl Iterator for Flags<'_> {
    type Item = Arg;

    fn next(&mut self) -> Option<Arg> {
        loop {
            let arg = self.args.next()?;
            if self.options_done || !arg.starts_with('-') || arg == "-" {
                return Some(Arg::Positional(arg.clone()));
            }
            if arg == "--" {
                self.options_done = true;
                continue;
            }
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) => (name.to_owned(), Some(value.to_owned())),
                None => (arg.clone(), None),
            };
            return Some(Arg::Flag { name, inline });
        }
    }
}
