// The Kotlin side of bindings/tests/kotlin.rs: runs the scenarios named on the command line
// against the generated bindings and the built library, and ends with "N passed, N failed".
package org.streetpatrol.tests

import kotlin.system.exitProcess

/** Every scenario, by the name bindings/tests/kotlin.rs runs it under. */
val scenarios: Map<String, () -> Unit> = linkedMapOf(
    "record_a_1000_fix_patrol_and_read_its_stats" to ::recordAThousandFixPatrol,
    "sampling_advice_and_pause_resume" to ::samplingAdviceAndPauseResume,
    "export_and_import_round_trip" to ::exportAndImportRoundTrip,
    "errors_arrive_as_typed_exceptions" to ::errorsArriveAsTypedExceptions,
    "not_a_database_is_refused_untouched" to ::notADatabaseIsRefusedUntouched,
    "the_store_is_encrypted_with_the_hosts_keys" to ::theStoreIsEncryptedWithTheHostsKeys,
    "closed_objects_refuse_calls_and_unclosed_ones_are_collected" to ::closedObjectsRefuseCalls,
    "no_native_memory_leaks_over_10000_calls" to ::noNativeLeaksOverTenThousandCalls,
    "import_runs_off_the_callers_thread_with_progress" to ::importRunsOffTheCallersThread,
    "cancelling_an_import_stores_nothing" to ::cancellingAnImportStoresNothing,
    "a_throwing_progress_listener_does_not_break_the_import" to ::aThrowingListenerDoesNotBreakTheImport,
    "the_host_clock_and_network_state_reach_the_core" to ::hostClockAndNetworkReachTheCore,
    "slow_calls_run_on_a_core_worker_thread" to ::slowCallsRunOnACoreWorkerThread,
    "streets_import_a_1_hz_patrol_and_coverage_read_from_kotlin" to ::streetsImportPatrolAndCoverage,
    "cancelling_a_street_import_stores_nothing" to ::cancellingAStreetImportStoresNothing,
    "report_an_issue_with_a_photo_and_move_it_through_the_workflow" to ::reportAnIssueWithAPhotoThroughTheWorkflow,
    "pickups_and_points" to ::pickupsAndPoints,
    "observers_hear_the_current_state_then_changes_until_stopped" to ::observersHearTheCurrentStateThenChangesUntilStopped,
    "observers_see_writes_from_another_connection" to ::observersSeeWritesFromAnotherConnection,
    "kotlin_flows_over_observers_and_progress" to ::kotlinFlowsOverObserversAndProgress,
    // Needs -Dpatrol.server, -Dpatrol.chief_code and -Dpatrol.supervisor_code (kotlin.rs starts
    // a patrol-server for it).
    "sync_against_a_patrol_server_started_by_the_test" to ::syncAgainstAPatrolServerStartedByTheTest,
)

fun main(args: Array<String>) {
    val chosen = if (args.isEmpty()) scenarios.keys.toList() else args.toList()
    var passed = 0
    var failed = 0
    for (name in chosen) {
        val scenario = scenarios[name]
        if (scenario == null) {
            println("FAIL $name: no such scenario; known: ${scenarios.keys.joinToString()}")
            failed++
            continue
        }
        val started = System.nanoTime()
        try {
            scenario()
            passed++
            println("ok   $name (${(System.nanoTime() - started) / 1_000_000} ms)")
        } catch (e: Throwable) {
            failed++
            println("FAIL $name: $e")
            e.printStackTrace(System.out)
        }
    }
    println("$passed passed, $failed failed")
    System.out.flush()
    exitProcess(if (failed == 0) 0 else 1)
}
