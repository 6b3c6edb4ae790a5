// The error handler: exceptions of fire-and-forget tasks are reported once, never lost.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <concert/concert.hpp>

namespace {

struct sensor_error : std::runtime_error {
    sensor_error() : std::runtime_error("sensor unplugged") {}
};

// Installs a recording handler for one test.
class ErrorHandler : public ::testing::Test {
  protected:
    void SetUp() override {
        previous_ =
            concert::set_error_handler([this](std::exception_ptr e, std::string_view origin) {
                std::lock_guard lock(mutex_);
                errors_.push_back(e);
                origins_.emplace_back(origin);
            });
    }
    void TearDown() override { concert::set_error_handler(previous_); }

    std::mutex mutex_;
    std::vector<std::exception_ptr> errors_;
    std::vector<std::string> origins_;

  private:
    concert::error_handler previous_;
};

TEST_F(ErrorHandler, AThrowingPostedTaskIsReportedOnceWithItsException) {
    {
        concert::thread_pool pool{2};
        pool.post([] { throw sensor_error(); });
    }  // joined: the task has run
    ASSERT_EQ(errors_.size(), 1u);
    EXPECT_THROW(std::rethrow_exception(errors_[0]), sensor_error);
    EXPECT_NE(origins_[0].find("fire-and-forget"), std::string::npos) << origins_[0];
}

TEST_F(ErrorHandler, EveryFailingPostedTaskIsReported) {
    {
        concert::thread_pool pool{2};
        for (int i = 0; i < 100; ++i) {
            pool.post([i] {
                if (i % 2 == 0) {
                    throw i;
                }
            });
        }
    }
    EXPECT_EQ(errors_.size(), 50u);
}

TEST_F(ErrorHandler, ATaskWithAFutureIsNotReported) {
    concert::thread_pool pool{1};
    auto f = pool.submit([] { throw sensor_error(); });
    EXPECT_THROW(f.wait(), sensor_error);
    EXPECT_TRUE(errors_.empty());
}

TEST(DefaultErrorHandler, PrintsOneLineToStderr) {
    ::testing::internal::CaptureStderr();
    {
        concert::thread_pool pool{1};
        pool.post([] { throw sensor_error(); });
    }
    const std::string printed = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(printed.find("sensor unplugged"), std::string::npos) << printed;
    EXPECT_EQ(std::count(printed.begin(), printed.end(), '\n'), 1) << printed;
}

TEST(DefaultErrorHandler, NamesAValueNotDerivedFromStdException) {
    EXPECT_EQ(concert::describe(std::make_exception_ptr(3)),
              "a value not derived from std::exception");
    EXPECT_EQ(concert::describe(std::make_exception_ptr(sensor_error())), "sensor unplugged");
}

TEST(ErrorHandlerSlot, AThrowingHandlerDoesNotEscapeAndFallsBackToStderr) {
    auto previous = concert::set_error_handler(
        [](std::exception_ptr, std::string_view) { throw std::logic_error("handler broke"); });
    ::testing::internal::CaptureStderr();
    concert::report_error(std::make_exception_ptr(sensor_error()), "a test");
    const std::string printed = ::testing::internal::GetCapturedStderr();
    concert::set_error_handler(previous);
    EXPECT_NE(printed.find("sensor unplugged"), std::string::npos) << printed;
    EXPECT_NE(printed.find("handler broke"), std::string::npos) << printed;
}

TEST(ErrorHandlerSlot, SetReturnsThePreviousHandler) {
    int calls = 0;
    auto original =
        concert::set_error_handler([&calls](std::exception_ptr, std::string_view) { ++calls; });
    auto mine = concert::set_error_handler(original);
    ASSERT_TRUE(mine);
    mine(nullptr, "direct");
    EXPECT_EQ(calls, 1);
}

}  // namespace
