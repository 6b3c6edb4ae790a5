// DISABLE is constant-initialised: a static initialiser of the program that sets it is never
// undone by the library's own initialisation, and a submit made by a later static initialiser
// already runs inline.
#include <gtest/gtest.h>

#include <thread>

#include <concert/concert.hpp>

namespace {

const bool set_before_main = [] {
    concert::DISABLE.store(true);
    return true;
}();

const std::thread::id static_submit_ran_on =
    concert::submit([] { return std::this_thread::get_id(); }).result();

TEST(DisableStaticInit, AStaticInitialiserSettingDisableIsNotReset) {
    EXPECT_TRUE(set_before_main);
    EXPECT_TRUE(concert::DISABLE.load());
    EXPECT_TRUE(concert::async_disabled());
}

TEST(DisableStaticInit, ASubmitFromAStaticInitialiserRanInline) {
    // Static initialisers run on the main thread, which runs the tests too.
    EXPECT_EQ(static_submit_ran_on, std::this_thread::get_id());
}

}  // namespace
