//! Every transcript of PROTOCOLS.md §1, §2 and §7, run against the core sessions in
//! memory. The same transcripts run over real sockets in `host/tests`.

mod sim;

use sim::{Pair, drain, events, exchange};
use socklab_core::echo::{Echo, EchoConfig};
use socklab_core::quiz::{Outcome, Player, Quiz, QuizConfig};
use socklab_core::rng::{Rng, SplitMix64};
use socklab_core::session::Idle;
use socklab_core::{CloseDetail, CloseReason, Duration, Event, Instant, Session, frame};

const T0: Instant = Instant::ZERO;

fn echo(config: EchoConfig) -> Echo<64> {
    Echo::new(config)
}

// ---- §1 echo -------------------------------------------------------------------

#[test]
fn echo_returns_every_byte_unchanged() {
    let mut e = echo(EchoConfig::default());
    let all: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    assert_eq!(exchange(&mut e, T0, &all), all);
    assert_eq!(
        exchange(&mut e, T0, b"hello\r\nworld\n"),
        b"hello\r\nworld\n"
    );
    assert_eq!(e.close_reason(), None);
}

#[test]
fn echo_quit_is_not_echoed_and_closes() {
    let mut e = echo(EchoConfig::default());
    let out = exchange(&mut e, T0, b"one\nquit\nafter\n");
    assert_eq!(out, b"one\n");
    assert_eq!(e.close_reason(), Some(CloseReason::Quit));
}

#[test]
fn echo_quit_with_crlf_and_split_across_reads() {
    let mut e = echo(EchoConfig::default());
    let mut out = exchange(&mut e, T0, b"a\r\nqu");
    out.extend(exchange(&mut e, T0, b"it\r"));
    out.extend(exchange(&mut e, T0, b"\n"));
    assert_eq!(out, b"a\r\n");
    assert_eq!(e.close_reason(), Some(CloseReason::Quit));
}

#[test]
fn echo_words_that_only_look_like_commands_are_data() {
    let mut e = echo(EchoConfig::default());
    let input = b"quit!\nquits\nxquit\nQUIT\nqui\n\r\n\nquit \nquit\rx\n";
    assert_eq!(exchange(&mut e, T0, input), input);
    assert_eq!(e.close_reason(), None);
}

#[test]
fn echo_quit_cut_off_by_eof_is_data() {
    let mut e = echo(EchoConfig::default());
    let out = exchange(&mut e, T0, b"x\nquit");
    assert_eq!(out, b"x\n");
    e.handle_eof(T0);
    let mut rest = Vec::new();
    drain(&mut e, &mut rest);
    assert_eq!(rest, b"quit");
    assert_eq!(e.close_reason(), Some(CloseReason::PeerClosed));
}

#[test]
fn echo_stop_needs_allow_stop() {
    let mut e = echo(EchoConfig::default());
    assert_eq!(exchange(&mut e, T0, b"stop\n"), b"stop\n");
    assert!(events(&mut e).is_empty());

    let mut e = echo(EchoConfig {
        allow_stop: true,
        ..EchoConfig::default()
    });
    assert_eq!(exchange(&mut e, T0, b"bye\nstop\nignored"), b"bye\n");
    assert_eq!(events(&mut e), vec![Event::StopServer]);
    assert_eq!(e.close_reason(), Some(CloseReason::Quit));
    assert!(events(&mut e).is_empty(), "the stop event is returned once");
}

#[test]
fn echo_upper_changes_only_ascii_letters() {
    let mut e = echo(EchoConfig {
        upper: true,
        ..EchoConfig::default()
    });
    let out = exchange(&mut e, T0, "héllo, wörld 42\n\u{ff}".as_bytes());
    assert_eq!(out, "HéLLO, WöRLD 42\n\u{ff}".as_bytes());
}

#[test]
fn echo_backpressure_takes_only_what_fits() {
    let mut e = echo(EchoConfig::default());
    let big = vec![b'x'; 1000];
    let n = e.handle_input(T0, &big);
    assert_eq!(n, 64, "a 64-byte queue takes 64 bytes");
    assert_eq!(e.handle_input(T0, &big[n..]), 0);
    let mut out = Vec::new();
    drain(&mut e, &mut out);
    assert_eq!(out.len(), 64);
}

/// Everything `e` owes right now.
fn owed<S: Session>(e: &mut S) -> Vec<u8> {
    let mut out = Vec::new();
    drain(e, &mut out);
    out
}

#[test]
fn echo_held_prefix_goes_out_after_200_ms_without_input() {
    let ms = Instant::from_millis;
    let mut e = echo(EchoConfig::default());
    assert_eq!(exchange(&mut e, ms(1000), b"ab\nq"), b"ab\n");
    assert_eq!(e.poll_timeout(), Some(ms(1200)));
    e.handle_timeout(ms(1199));
    assert!(!e.wants_output(), "nothing before 200 ms");
    assert_eq!(owed(&mut e), b"");
    e.handle_timeout(ms(1200));
    assert_eq!(owed(&mut e), b"q", "the q comes back at 200 ms");
    assert_eq!(e.poll_timeout(), None, "nothing is held any more");
    // The line is still watched: it completes as `quit`, which still quits.
    assert_eq!(exchange(&mut e, ms(5000), b"uit\n"), b"");
    assert_eq!(e.close_reason(), Some(CloseReason::Quit));
}

#[test]
fn echo_pause_restarts_with_each_input_and_sends_only_the_unsent_part() {
    let ms = Instant::from_millis;
    let mut e = echo(EchoConfig {
        allow_stop: true,
        ..EchoConfig::default()
    });
    assert_eq!(exchange(&mut e, ms(0), b"s"), b"");
    assert_eq!(exchange(&mut e, ms(150), b"t"), b"");
    e.handle_timeout(ms(200));
    e.handle_timeout(ms(349));
    assert_eq!(owed(&mut e), b"", "the pause counts from the last byte");
    e.handle_timeout(ms(350));
    assert_eq!(owed(&mut e), b"st");
    assert_eq!(exchange(&mut e, ms(400), b"o"), b"");
    e.handle_timeout(ms(600));
    assert_eq!(owed(&mut e), b"o", "only what was not sent yet");
    assert_eq!(exchange(&mut e, ms(700), b"p\r\n"), b"");
    assert_eq!(e.close_reason(), Some(CloseReason::Quit));
    assert_eq!(events(&mut e), vec![Event::StopServer]);

    // A flushed prefix whose line turns out to be data: the rest follows, nothing twice.
    let mut e = echo(EchoConfig::default());
    assert_eq!(exchange(&mut e, ms(0), b"qu"), b"");
    e.handle_timeout(ms(200));
    assert_eq!(owed(&mut e), b"qu");
    assert_eq!(exchange(&mut e, ms(300), b"iz\nquit"), b"iz\n");
    e.handle_eof(ms(300));
    assert_eq!(owed(&mut e), b"quit", "a quit cut off by EOF is data");
}

#[test]
fn echo_flush_is_driven_through_the_idle_wrapper_in_simulated_time() {
    let ms = Instant::from_millis;
    let mut e = Idle::new(echo(EchoConfig::default()), ms(0), Duration::from_secs(300));
    assert_eq!(exchange(&mut e, ms(10), b"q"), b"");
    assert_eq!(
        e.poll_timeout(),
        Some(ms(210)),
        "the flush comes before the idle timeout"
    );
    e.handle_timeout(ms(210));
    assert_eq!(owed(&mut e), b"q");
    assert_eq!(
        e.poll_timeout(),
        Some(ms(300_010)),
        "then only the idle timeout is left"
    );
}

#[test]
fn echo_stop_releases_held_bytes() {
    let mut e = echo(EchoConfig::default());
    assert_eq!(exchange(&mut e, T0, b"hello\nqu"), b"hello\n");
    e.handle_stop(T0);
    assert_eq!(owed(&mut e), b"qu", "held bytes are owed too");
    assert_eq!(
        e.in_flight(),
        None,
        "echo has nothing to finish: the frontend closes it"
    );
    assert_eq!(e.close_reason(), None);

    // Framed: a frame cut off by the stop goes back as far as it got, as at EOF.
    let mut e = echo(EchoConfig {
        framed: true,
        ..EchoConfig::default()
    });
    assert_eq!(exchange(&mut e, T0, b"\0\0\0\x04qu"), b"");
    e.handle_stop(T0);
    assert_eq!(owed(&mut e), b"\0\0\0\x04qu");
}

// ---- §7 framing and framed echo ------------------------------------------------------

fn framed(payloads: &[&[u8]]) -> Vec<u8> {
    let mut v = Vec::new();
    for p in payloads {
        let mut buf = vec![0; p.len() + 4];
        let n = frame::encode(p, &mut buf).unwrap();
        v.extend_from_slice(&buf[..n]);
    }
    v
}

#[test]
fn framed_echo_returns_each_frame_as_one_frame() {
    let cfg = EchoConfig {
        framed: true,
        ..EchoConfig::default()
    };
    let big = vec![7u8; 300];
    let input = framed(&[b"hello", b"", b"abcd", &big]);
    let mut e = echo(cfg);
    // Byte by byte, to cross every state boundary.
    let mut out = Vec::new();
    for b in &input {
        out.extend(exchange(&mut e, T0, std::slice::from_ref(b)));
    }
    assert_eq!(out, input);
}

#[test]
fn framed_echo_upper_and_commands() {
    let cfg = EchoConfig {
        framed: true,
        upper: true,
        allow_stop: true,
        ..EchoConfig::default()
    };
    let mut e = echo(cfg);
    let out = exchange(&mut e, T0, &framed(&[b"hi there", b"stop", b"late"]));
    assert_eq!(out, framed(&[b"HI THERE"]));
    assert_eq!(events(&mut e), vec![Event::StopServer]);

    let mut e = echo(EchoConfig {
        allow_stop: false,
        ..cfg
    });
    let out = exchange(&mut e, T0, &framed(&[b"stop", b"quit", b"x"]));
    assert_eq!(out, framed(&[b"STOP"]));
    assert_eq!(e.close_reason(), Some(CloseReason::Quit));
}

#[test]
fn framed_echo_closes_on_a_frame_over_the_limit() {
    let mut e = echo(EchoConfig {
        framed: true,
        max_frame: 16,
        ..EchoConfig::default()
    });
    let mut input = framed(&[b"ok"]);
    input.extend_from_slice(&17u32.to_be_bytes());
    assert_eq!(exchange(&mut e, T0, &input), framed(&[b"ok"]));
    assert_eq!(e.close_reason(), Some(CloseReason::ProtocolError));
    // The log names the length and the limit.
    let detail = e.close_detail().expect("a detail for the log");
    assert_eq!(detail, CloseDetail::FrameTooLarge { len: 17, limit: 16 });
    assert_eq!(detail.to_string(), "frame header says 17 bytes, limit 16");
}

// ---- §2 quiz ---------------------------------------------------------------------------

/// Replays fixed words, so a test can make the generator produce the lab's problems.
struct Script(Vec<u64>);

impl Rng for Script {
    fn next_u64(&mut self) -> u64 {
        self.0.remove(0)
    }
}

/// op index (0 +, 1 -, 2 *) then a then b, per problem; operands 0..=999 use value % 1000.
fn lab_rng() -> Script {
    Script(vec![0, 23, 45, 0, 682, 47, 2, 669, 364, 0, 1, 1])
}

#[test]
fn quiz_lab_transcript_byte_for_byte() {
    let mut q = Quiz::new(T0, QuizConfig::default(), lab_rng());
    let mut out = Vec::new();
    drain(&mut q, &mut out);
    assert_eq!(
        out,
        b"> Hi! You need to solve 10 arithmetic problems:\n1. 23 + 45\n"
    );
    assert_eq!(exchange(&mut q, T0, b"68\n"), b"2. 682 + 47\n");
    assert_eq!(exchange(&mut q, T0, b"729\n"), b"3. 669 * 364\n");
    assert_eq!(exchange(&mut q, T0, b"2435\n"), b"> It's wrong!\n");
    assert_eq!(q.close_reason(), Some(CloseReason::Finished));
    assert_eq!(q.solved(), 2);
    // The log says how it ended, not only that it did.
    assert_eq!(q.close_detail(), Some(CloseDetail::QuizWrong { at: 3 }));
    assert_eq!(q.close_detail().unwrap().to_string(), "wrong at 3");
}

#[test]
fn quiz_answers_may_be_pipelined_and_split() {
    let mut q = Quiz::new(T0, QuizConfig::default(), lab_rng());
    drain(&mut q, &mut Vec::new());
    let mut out = exchange(&mut q, T0, b" +68 \r\n7");
    out.extend(exchange(&mut q, T0, b"29\n"));
    assert_eq!(out, b"2. 682 + 47\n3. 669 * 364\n");
}

#[test]
fn quiz_win_line_after_n_right_answers() {
    let cfg = QuizConfig::new(2, 0, 999, Duration::from_secs(60)).unwrap();
    let mut q = Quiz::new(T0, cfg, lab_rng());
    let mut out = Vec::new();
    drain(&mut q, &mut out);
    out.extend(exchange(&mut q, T0, b"68\n729\n"));
    assert_eq!(
        out,
        b"> Hi! You need to solve 2 arithmetic problems:\n1. 23 + 45\n2. 682 + 47\n> You won! All 2 answers are correct.\n"
    );
    assert_eq!(q.close_reason(), Some(CloseReason::Finished));
    assert_eq!(q.close_detail().unwrap().to_string(), "won 2/2");
}

#[test]
fn quiz_malformed_answers_are_wrong() {
    for bad in [
        &b"\n"[..],
        b"sixty-eight\n",
        b"68 apples\n",
        b"\xff\xfe\n",
        b"99999999999999999999999\n",
    ] {
        let mut q = Quiz::new(T0, QuizConfig::default(), lab_rng());
        drain(&mut q, &mut Vec::new());
        assert_eq!(exchange(&mut q, T0, bad), b"> It's wrong!\n", "{bad:?}");
        assert_eq!(q.close_reason(), Some(CloseReason::Finished));
    }
}

#[test]
fn quiz_overlong_line_is_wrong_and_a_protocol_error() {
    let mut q = Quiz::new(T0, QuizConfig::default(), lab_rng());
    drain(&mut q, &mut Vec::new());
    let long = vec![b'1'; 1025];
    assert_eq!(exchange(&mut q, T0, &long), b"> It's wrong!\n");
    assert_eq!(q.close_reason(), Some(CloseReason::ProtocolError));
    assert_eq!(q.close_detail().unwrap().to_string(), "line too long at 1");

    // Exactly 1024 bytes plus CRLF is still a line (and a wrong answer).
    let mut q = Quiz::new(T0, QuizConfig::default(), lab_rng());
    drain(&mut q, &mut Vec::new());
    let mut line = vec![b' '; 1022];
    line.extend_from_slice(b"68\r\n");
    assert_eq!(exchange(&mut q, T0, &line), b"2. 682 + 47\n");
}

#[test]
fn quiz_answer_timeout_counts_per_problem() {
    let cfg = QuizConfig::new(3, 0, 999, Duration::from_secs(60)).unwrap();
    let mut q = Quiz::new(T0, cfg, lab_rng());
    drain(&mut q, &mut Vec::new());
    assert_eq!(q.poll_timeout(), Some(Instant::from_millis(60_000)));
    let t = Instant::from_millis(59_000);
    exchange(&mut q, t, b"68\n");
    assert_eq!(q.poll_timeout(), Some(Instant::from_millis(119_000)));
    q.handle_timeout(Instant::from_millis(118_999));
    assert_eq!(q.close_reason(), None);
    q.handle_timeout(Instant::from_millis(119_000));
    let mut out = Vec::new();
    drain(&mut q, &mut out);
    assert_eq!(out, b"> Time is up!\n");
    assert_eq!(q.close_reason(), Some(CloseReason::Timeout));
    assert_eq!(q.close_detail().unwrap().to_string(), "timed out at 2");
    assert_eq!(q.poll_timeout(), None);
}

#[test]
fn quiz_seed_fixes_the_problems() {
    let cfg = QuizConfig::default();
    let mut a = Quiz::new(T0, cfg, SplitMix64::new(7));
    let mut b = Quiz::new(T0, cfg, SplitMix64::new(7));
    let (mut oa, mut ob) = (Vec::new(), Vec::new());
    drain(&mut a, &mut oa);
    drain(&mut b, &mut ob);
    assert_eq!(oa, ob);
    // Fixed forever: a change of generator would break every `--seed` user.
    assert_eq!(
        String::from_utf8(oa).unwrap(),
        "> Hi! You need to solve 10 arithmetic problems:\n1. 804 + 346\n"
    );
}

#[test]
fn quiz_negative_operands_are_written_with_a_minus() {
    let cfg = QuizConfig::new(50, -9, -1, Duration::from_secs(60)).unwrap();
    let mut p = Pair::new(Player::new(), Quiz::new(T0, cfg, SplitMix64::new(3)));
    p.run(1000);
    let text = String::from_utf8(p.server_sent.clone()).unwrap();
    assert!(
        text.lines().skip(1).take(50).all(|l| l.contains(". -")),
        "{text}"
    );
    assert_eq!(p.client.outcome(), Some(Outcome::Won));
}

#[test]
fn quiz_config_rejects_what_cannot_work() {
    let t = Duration::from_secs(1);
    assert!(QuizConfig::new(0, 0, 9, t).is_err());
    assert!(QuizConfig::new(1, 9, 0, t).is_err());
    assert!(QuizConfig::new(1, -3_037_000_500, 0, t).is_err());
    assert!(QuizConfig::new(1, -3_037_000_499, 3_037_000_499, t).is_ok());
}

#[test]
fn player_wins_against_the_server_in_simulated_time() {
    let mut p = Pair::new(
        Player::new(),
        Quiz::new(T0, QuizConfig::default(), SplitMix64::new(99)),
    );
    p.run(1000);
    assert_eq!(p.client.outcome(), Some(Outcome::Won));
    assert_eq!(p.client.answered(), 10);
    assert_eq!(p.server.close_reason(), Some(CloseReason::Finished));
    assert!(
        p.server_sent
            .ends_with(b"> You won! All 10 answers are correct.\n")
    );
    assert_eq!(p.now, T0, "a solving player never waits");
}

#[test]
fn silent_player_loses_on_time() {
    /// A player that never answers.
    struct Mute(Player);
    impl Session for Mute {
        fn handle_input(&mut self, now: Instant, input: &[u8]) -> usize {
            self.0.handle_input(now, input);
            // Swallow the answers it would have sent.
            let mut sink = [0u8; 64];
            while self.0.poll_output(&mut sink) > 0 {}
            input.len()
        }
        fn handle_eof(&mut self, now: Instant) {
            self.0.handle_eof(now)
        }
        fn handle_timeout(&mut self, _: Instant) {}
        fn poll_output(&mut self, _: &mut [u8]) -> usize {
            0
        }
        fn poll_timeout(&self) -> Option<Instant> {
            None
        }
        fn close_reason(&self) -> Option<CloseReason> {
            self.0.close_reason()
        }
        fn wants_output(&self) -> bool {
            false
        }
    }
    let cfg = QuizConfig::new(3, 0, 999, Duration::from_secs(5)).unwrap();
    let mut p = Pair::new(Mute(Player::new()), Quiz::new(T0, cfg, SplitMix64::new(1)));
    p.run(100);
    assert_eq!(p.client.0.outcome(), Some(Outcome::TimeUp));
    assert_eq!(p.now, Instant::from_millis(5000));
}

// ---- §0 idle timeout -----------------------------------------------------------------

#[test]
fn idle_wrapper_closes_silent_sessions_only() {
    let mut s = Idle::new(echo(EchoConfig::default()), T0, Duration::from_secs(300));
    assert_eq!(s.poll_timeout(), Some(Instant::from_millis(300_000)));
    let t = Instant::from_millis(200_000);
    assert_eq!(exchange(&mut s, t, b"hi\n"), b"hi\n");
    s.handle_timeout(Instant::from_millis(300_000));
    assert_eq!(s.close_reason(), None, "input at 200 s restarted the clock");
    s.handle_timeout(Instant::from_millis(500_000));
    assert_eq!(s.close_reason(), Some(CloseReason::Timeout));
    assert_eq!(
        s.handle_input(t, b"late"),
        4,
        "a closed session ignores input"
    );
    assert_eq!(drain(&mut s, &mut Vec::new()), 0);
}
