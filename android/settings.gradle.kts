// The StreetPatrol Android library as a Gradle build of its own (open android/ in Android Studio,
// or run Gradle 8.9+ here). An app includes it with
//   includeBuild("path/to/streetpatrol/android")   // in the app's settings.gradle.kts
// and depends on "org.streetpatrol:streetpatrol-android".
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "streetpatrol-android"
