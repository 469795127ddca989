// Small assertions for the scenarios (the JVM tests carry no test framework of their own).
package org.streetpatrol.tests

class AssertionFailed(message: String) : AssertionError(message)

fun check(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionFailed(message())
}

fun <T> assertEq(expected: T, actual: T, what: String) {
    if (expected != actual) throw AssertionFailed("$what: expected <$expected>, got <$actual>")
}

fun assertNear(expected: Double, actual: Double, tolerance: Double, what: String) {
    if (Math.abs(expected - actual) > tolerance) {
        throw AssertionFailed("$what: expected $expected ± $tolerance, got $actual")
    }
}

/** Runs [block] and returns the exception of type [T] it must throw. */
inline fun <reified T : Throwable> assertThrows(what: String, block: () -> Unit): T {
    try {
        block()
    } catch (e: Throwable) {
        if (e is T) return e
        throw AssertionFailed("$what: expected ${T::class.simpleName}, got $e")
    }
    throw AssertionFailed("$what: expected ${T::class.simpleName}, nothing was thrown")
}
