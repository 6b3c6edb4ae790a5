#include <gtest/gtest.h>

#include <concert/concert.hpp>

TEST(Async, SmokeReturnsValue) {
    auto f = concert::async([] { return 1; });
    EXPECT_EQ(f().wait().result(), 1);
}
