// A Tango device server run by a test program (the remote_scan example's launcher, the Tango
// benchmark): started without a database on a free loopback port, ready once its (last) device
// answers a ping, stopped by its pid with SIGTERM and reaped when destroyed.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tango.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace concert::tango_testing {

// A loopback port that was free a moment ago. Another process may take it before the server
// binds it; device_server then starts over on another one.
inline int free_loopback_port() {
    const int socket_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (socket_fd < 0) {
        throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    const bool found =
        ::bind(socket_fd, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
        ::getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
    const int error = errno;
    ::close(socket_fd);
    if (!found) {
        throw std::runtime_error(std::string("no free loopback port: ") + std::strerror(error));
    }
    return ntohs(address.sin_port);
}

class device_server {
  public:
    // Runs `program INSTANCE -nodb -dlist devices -ORBendPoint giop:tcp:127.0.0.1:PORT` (its
    // output goes to this process's stderr, so that it never mixes with a program's checked
    // output; `devices` is one device name, or several separated by commas) and returns once the
    // last device answers a ping: a server exports its devices one by one, in that order, and the
    // first answers while the others are still being made. INSTANCE is unique to this process and
    // server, so that the device answering is known to be this server's and not that of another
    // test which took the port meanwhile. Throws std::runtime_error when the program cannot be
    // run, keeps exiting early, or does not answer within `timeout` (it is stopped then).
    device_server(std::string program, std::string devices,
                  std::chrono::milliseconds timeout = std::chrono::seconds(30))
        : program_(std::move(program)) {
        static std::atomic<int> servers_started{0};
        const std::string instance =
            "concert" + std::to_string(::getpid()) + "_" + std::to_string(servers_started++);
        server_id_ = program_.substr(program_.rfind('/') + 1) + "/" + instance;
        constexpr int attempts = 5;  // each after the server lost its port to another process
        for (int attempt = 1;; ++attempt) {
            const int port = free_loopback_port();
            start({program_, instance, "-nodb", "-dlist", devices, "-ORBendPoint",
                   "giop:tcp:127.0.0.1:" + std::to_string(port)});
            port_ = port;
            address_ = address(devices.substr(0, devices.find(',')));
            last_address_ = address(devices.substr(devices.rfind(',') + 1));
            const auto outcome = wait_until_answering(timeout);
            if (outcome == readiness::answering) {
                return;
            }
            if (outcome == readiness::timed_out) {
                stop();
                throw std::runtime_error(program_ + " did not answer a ping at " + last_address_ +
                                         " within " + std::to_string(timeout.count()) + " ms");
            }
            if (WIFEXITED(exit_status_) && WEXITSTATUS(exit_status_) == cannot_run) {
                throw std::runtime_error("cannot run " + program_);
            }
            if (attempt == attempts) {
                throw std::runtime_error(program_ + " exited before answering, " +
                                         std::to_string(attempts) + " times (wait status " +
                                         std::to_string(exit_status_) + ")");
            }
        }
    }

    device_server(const device_server&) = delete;
    device_server& operator=(const device_server&) = delete;

    ~device_server() { stop(); }

    // The first device's address: tango://127.0.0.1:PORT/<device>#dbase=no.
    const std::string& address() const { return address_; }

    // The server's process id (while it runs).
    pid_t pid() const { return pid_; }

    // The address of `device`, one of the server's.
    std::string address(std::string_view device) const {
        return "tango://127.0.0.1:" + std::to_string(port_) + "/" + std::string(device) +
               "#dbase=no";
    }

    // SIGTERM, then waits (bounded) until it has exited; SIGKILL if it has not. Clients must have
    // unsubscribed from its events before (Tango 9.3.4's event reconnection crashes a client
    // whose server vanished under a subscription). Does nothing once stopped.
    void stop() noexcept {
        if (pid_ <= 0) {
            return;
        }
        ::kill(pid_, SIGTERM);
        constexpr int stop_timeout_ms = 10'000;
        pollfd exit_event{pidfd_, POLLIN, 0};
        if (::poll(&exit_event, 1, stop_timeout_ms) != 1) {
            ::kill(pid_, SIGKILL);
        }
        reap();
    }

  private:
    enum class readiness { answering, exited, timed_out };
    static constexpr int cannot_run = 127;  // the child's exit code when exec fails, as a shell's

    void start(const std::vector<std::string>& arguments) {
        std::vector<char*> argv;
        for (const auto& argument : arguments) {
            argv.push_back(const_cast<char*>(argument.c_str()));
        }
        argv.push_back(nullptr);
        const pid_t parent = ::getpid();
        pid_ = ::fork();
        if (pid_ < 0) {
            throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
        }
        if (pid_ == 0) {
            // Only async-signal-safe calls between fork and exec. The server dies with the thread
            // that started it (the program's main thread), so that a test killed by its timeout
            // leaves no server behind.
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (::getppid() != parent) {
                ::_exit(cannot_run);
            }
            ::dup2(STDERR_FILENO, STDOUT_FILENO);
            ::execv(argv[0], argv.data());
            ::_exit(cannot_run);
        }
        // The system call itself: glibc 2.36's <sys/pidfd.h> lacks C linkage for C++.
        pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
        if (pidfd_ < 0) {
            const int error = errno;
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
            throw std::runtime_error(std::string("pidfd_open: ") + std::strerror(error));
        }
    }

    // Pings until this server's last device answers, the server exits, or the deadline: the
    // server's start-up cannot be observed otherwise, so this polls, with a short pause between
    // tries.
    readiness wait_until_answering(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (pollfd exit_event{pidfd_, POLLIN, 0}; ::poll(&exit_event, 1, 0) == 1) {
                reap();
                return readiness::exited;
            }
            if (answers()) {
                return readiness::answering;
            }
            if (std::chrono::steady_clock::now() > deadline) {
                return readiness::timed_out;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    bool answers() const {
        try {
            // A fresh proxy each time: a proxy that failed to connect delays its next try by a
            // second.
            Tango::DeviceProxy device(last_address_.c_str());
            return std::string(device.info().server_id) == server_id_;
        } catch (const Tango::DevFailed&) {
            return false;
        }
    }

    void reap() noexcept {
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        exit_status_ = status;
        ::close(pidfd_);
        pid_ = -1;
        pidfd_ = -1;
    }

    std::string program_;
    std::string server_id_;  // as Tango's DeviceInfo names it: "<executable>/<instance>"
    int port_ = 0;
    std::string address_;
    std::string last_address_;
    pid_t pid_ = -1;
    int pidfd_ = -1;
    int exit_status_ = 0;
};

}  // namespace concert::tango_testing
