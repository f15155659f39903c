#pragma once
/** @file
 * @brief Exhaustive visits of a std::variant: every backend dispatches pass kinds through
 * visit_exhaustive, so a new alternative that one backend does not handle fails to compile
 * there (instead of compiling and throwing at run time on that backend only).
 */
#include <type_traits>
#include <utility>
#include <variant>

namespace reclaim {

/// An overload set of lambdas: `visit_exhaustive(overloaded{[](A const&) {...}, [](B const&) {...}}, v)`.
template <class... Fs>
struct overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

namespace detail {
/// A type no visitor names: a visitor that accepts it has a catch-all (template or `auto`)
/// overload, which would silently swallow a new alternative.
struct UnhandledAlternativeProbe {};
}  // namespace detail

/// True when `Visitor` has an overload for every alternative of `Variant` (as a const
/// lvalue) and no catch-all overload.
template <class Visitor, class Variant>
inline constexpr bool visits_every_alternative_v = false;
template <class Visitor, class... Ts>
inline constexpr bool visits_every_alternative_v<Visitor, std::variant<Ts...>> =
    (std::is_invocable_v<Visitor, Ts const&> && ...) &&
    !std::is_invocable_v<Visitor, detail::UnhandledAlternativeProbe const&>;

/** @brief std::visit that refuses, at compile time, a visitor missing an alternative or
 * hiding one behind a catch-all overload. */
template <class Visitor, class... Ts>
decltype(auto) visit_exhaustive(Visitor&& visitor, std::variant<Ts...> const& v) {
  static_assert((std::is_invocable_v<Visitor, Ts const&> && ...),
                "visit_exhaustive: the visitor has no overload for some alternative (a new pass kind must be "
                "handled by every backend)");
  static_assert(!std::is_invocable_v<Visitor, detail::UnhandledAlternativeProbe const&>,
                "visit_exhaustive: the visitor has a catch-all overload; name every alternative instead");
  return std::visit(std::forward<Visitor>(visitor), v);
}

}  // namespace reclaim
