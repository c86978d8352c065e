//! A real `redis-server` for the fleet tests: its own process on a free 127.0.0.1 port, no
//! persistence (`--save "" --appendonly no`), a temp dir, killed on drop. Missing `redis-server`
//! fails the test with what to install; it never passes silently. [`RedisServer::start_tls`]
//! serves TLS only (`rediss://`), with a certificate from a throwaway [`TestCa`].

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    pub port: u16,
    password: Option<String>,
    child: Option<Child>,
    dir: tempfile::TempDir,
    /// Set: the port speaks TLS only, with a certificate this CA signed.
    tls: Option<TestCa>,
}

impl RedisServer {
    /// Starts a fresh server and waits until it answers `PING`.
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// Starts one that requires `password` (`--requirepass`).
    pub fn start_with_password(password: &str) -> Self {
        Self::start_with(Some(password.to_string()))
    }

    /// Starts one that speaks TLS only on its port (`--port 0 --tls-port N`, no client
    /// certificates) and requires `password`; its certificate is signed by [`Self::ca_file`].
    pub fn start_tls(password: &str) -> Self {
        Self::start_on(Some(password.to_string()), Some(TestCa::generate()))
    }

    fn start_with(password: Option<String>) -> Self {
        Self::start_on(password, None)
    }

    fn start_on(password: Option<String>, tls: Option<TestCa>) -> Self {
        let port = free_port();
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = Self {
            port,
            password,
            child: None,
            dir,
            tls,
        };
        server.restart();
        server
    }

    /// `redis://[:PASSWORD@]127.0.0.1:PORT/0` (`rediss://` for a TLS server).
    pub fn url(&self) -> String {
        let auth = self
            .password
            .as_ref()
            .map(|p| format!(":{p}@"))
            .unwrap_or_default();
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        format!("{scheme}://{auth}127.0.0.1:{}/0", self.port)
    }

    /// The PEM file of the CA that signed a TLS server's certificate.
    pub fn ca_file(&self) -> &Path {
        &self.tls.as_ref().expect("a TLS server").ca_file
    }

    /// A client that trusts this server (its CA, for a TLS one).
    fn client(&self) -> redis::RedisResult<redis::Client> {
        match &self.tls {
            None => redis::Client::open(self.url()),
            Some(ca) => {
                let roots = redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(ca.ca_pem.clone().into_bytes()),
                };
                redis::Client::build_with_tls(self.url(), roots)
            }
        }
    }

    /// A plain connection for reading what the replicas wrote.
    pub fn connection(&self) -> redis::Connection {
        self.client()
            .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(5)))
            .expect("the test Redis answers")
    }

    /// Kills the server (as a crash or an outage would).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the process (`SIGSTOP`): connections are accepted by the kernel and never
    /// answered, as with a Redis that hangs. [`RedisServer::resume`] thaws it.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    pub fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        let pid = self.child.as_ref().expect("redis-server runs").id();
        let status = Command::new("kill")
            .args([which, &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {which} redis-server");
    }

    /// Starts it again on the same port (empty: nothing is persisted).
    pub fn restart(&mut self) {
        self.stop();
        let mut command = Command::new("redis-server");
        if let Some(password) = &self.password {
            command.args(["--requirepass", password]);
        }
        let port = self.port.to_string();
        match &self.tls {
            None => command.args(["--port", &port]),
            Some(ca) => ca.server_args(command.args(["--port", "0", "--tls-port", &port])),
        };
        let spawned = command
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = spawned.unwrap_or_else(|error| {
            panic!(
                "cannot start redis-server ({error}); the fleet tests need it: install it (apt-get install -y redis-server; .ci/run does this)"
            )
        });
        self.child = Some(child);
        self.wait_until_up();
    }

    fn wait_until_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                let pong = self
                    .client()
                    .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(1)))
                    .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
                if pong.is_ok() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server on port {} never answered PING", self.port);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A throwaway CA and a server certificate it signed for `127.0.0.1` and `localhost`, as PEM
/// files in their own temp dir.
pub struct TestCa {
    pub ca_file: PathBuf,
    ca_pem: String,
    cert_file: PathBuf,
    key_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestCa {
    pub fn generate() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_key = rcgen::KeyPair::generate().expect("a CA key");
        let mut ca_params = rcgen::CertificateParams::new(Vec::new()).expect("CA params");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(
            rcgen::DnType::CommonName,
            format!("test CA {}", fastrand::u64(..)),
        );
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca_params.self_signed(&ca_key).expect("a CA certificate");
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
        let mut server_params = rcgen::CertificateParams::new(names).expect("server params");
        server_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        server_params.use_authority_key_identifier_extension = true;
        server_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let server_key = rcgen::KeyPair::generate().expect("a server key");
        let server_cert = server_params
            .signed_by(&server_key, &issuer)
            .expect("a server certificate");
        let write = |name: &str, pem: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, pem).expect("write a PEM file");
            path
        };
        Self {
            ca_file: write("ca.pem", &ca_cert.pem()),
            ca_pem: ca_cert.pem(),
            cert_file: write("server.pem", &server_cert.pem()),
            key_file: write("server.key", &server_key.serialize_pem()),
            _dir: dir,
        }
    }

    /// `redis-server`'s TLS options for this certificate, clients unauthenticated.
    fn server_args<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        command
            .arg("--tls-cert-file")
            .arg(&self.cert_file)
            .arg("--tls-key-file")
            .arg(&self.key_file)
            .arg("--tls-ca-cert-file")
            .arg(&self.ca_file)
            .args(["--tls-auth-clients", "no"])
    }
}
