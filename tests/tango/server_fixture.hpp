// The device servers of the Tango bridge's test programs: a GoogleTest environment starts one
// before the program's first test (on a free loopback port, ready once it answers a ping) and
// stops it by its pid after the last, so that no test restarts a server. Tests unsubscribe before
// it stops: Tango 9.3.4 crashes a client still subscribed to a server that went away.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "motor/device_server.hpp"

namespace concert::tango_testing {

class server_environment : public ::testing::Environment {
  public:
    server_environment(std::string program, std::string device)
        : program_(std::move(program)), device_(std::move(device)) {}

    void SetUp() override {
        try {
            server_ = std::make_unique<device_server>(program_, device_);
        } catch (const std::exception& e) {
            FAIL() << "cannot start " << program_ << ": " << e.what();
        }
    }

    void TearDown() override { server_.reset(); }

    // The device's address, tango://127.0.0.1:PORT/<device>#dbase=no.
    const std::string& address() const { return server_->address(); }

  private:
    std::string program_;
    std::string device_;
    std::unique_ptr<device_server> server_;
};

// Registers a server for the whole test program; call it from a namespace-scope initialiser.
inline server_environment& add_server(std::string program, std::string device) {
    return *static_cast<server_environment*>(::testing::AddGlobalTestEnvironment(
        new server_environment(std::move(program), std::move(device))));
}

}  // namespace concert::tango_testing
