//! `orgpool fake-org` and `orgpool bench` in a build without the cargo feature
//! `fake-org`: they take any arguments and fail with what to do instead.

use clap::Args;

macro_rules! unavailable {
    ($name:ident, $command:literal) => {
        #[doc = concat!("`", $command, "` in a build without the fake org.")]
        #[derive(Debug, Args)]
        pub struct $name {
            /// Ignored: the command fails before reading them.
            #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
            args: Vec<String>,
        }

        impl $name {
            /// Fails: the fake org is not in this build.
            pub async fn run(self) -> anyhow::Result<()> {
                let _ = self.args;
                Err(anyhow::Error::msg(crate::without_fake_org(
                    concat!("`", $command, "`"),
                    false,
                )))
            }
        }
    };
}

unavailable!(FakeOrgArgs, "orgpool fake-org");
unavailable!(BenchArgs, "orgpool bench");
