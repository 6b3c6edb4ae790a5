// concert::tango::error: Tango's error stacks as a std::runtime_error, and the conversion of
// whatever Tango throws into it.
#include <fmt/format.h>

#include <utility>

#include "bridge.hpp"

namespace concert::tango {

namespace {

std::shared_ptr<const std::vector<error_entry>> entries_of(const Tango::DevErrorList& errors) {
    auto entries = std::make_shared<std::vector<error_entry>>();
    entries->reserve(errors.length());
    for (CORBA::ULong i = 0; i < errors.length(); ++i) {
        entries->push_back({errors[i].reason.in(), errors[i].desc.in(), errors[i].origin.in(),
                            errors[i].severity});
    }
    return entries;
}

std::string describe(const std::vector<error_entry>& stack) {
    if (stack.empty()) {
        return "Tango reported an error with an empty error stack";
    }
    return fmt::format("{}: {}", stack.front().reason, stack.front().description);
}

const std::string& empty_text() noexcept {
    static const std::string empty;
    return empty;
}

}  // namespace

error::error(std::shared_ptr<const std::vector<error_entry>> stack)
    : std::runtime_error(describe(*stack)), stack_(std::move(stack)) {}

error::error(const Tango::DevErrorList& errors) : error(entries_of(errors)) {}

error::error(const Tango::DevFailed& failure) : error(failure.errors) {}

error::error(std::string reason, std::string description, std::string origin)
    : error(std::make_shared<const std::vector<error_entry>>(std::vector<error_entry>{
          {std::move(reason), std::move(description), std::move(origin), Tango::ERR}})) {}

const std::string& error::reason() const noexcept {
    return stack_->empty() ? empty_text() : stack_->front().reason;
}

const std::string& error::description() const noexcept {
    return stack_->empty() ? empty_text() : stack_->front().description;
}

const std::string& error::where() const noexcept {
    return stack_->empty() ? empty_text() : stack_->front().origin;
}

const std::vector<error_entry>& error::stack() const noexcept {
    return *stack_;
}

namespace detail {

std::exception_ptr current_failure() noexcept {
    try {
        try {
            throw;
        } catch (const Tango::DevFailed& failure) {
            return std::make_exception_ptr(error(failure));
        } catch (const CORBA::Exception& failure) {
            // A CORBA system exception Tango let through: named, as Tango names them.
            return std::make_exception_ptr(error("API_CorbaException",
                                                 fmt::format("CORBA exception {}", failure._name()),
                                                 "concert::tango"));
        }
    } catch (...) {
        return std::current_exception();
    }
}

}  // namespace detail

}  // namespace concert::tango
