// StreetPatrol's Android library: the Rust core (jniLibs, built by build-jni.sh), the Kotlin
// bindings uniffi generates (src/main/kotlin/org/streetpatrol/ffi, committed, checked by
// `cargo test -p patrol-ffi --test generated`) and an idiomatic wrapper (org.streetpatrol).
plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.1.0"
}

group = "org.streetpatrol"
version = "0.1.0"

android {
    namespace = "org.streetpatrol"
    compileSdk = 35

    defaultConfig {
        // registerDefaultNetworkCallback (AndroidNetworkMonitor) needs API 24.
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    buildTypes {
        release {
            // A library does not shrink itself; apps shrink it with consumer-rules.pro.
            isMinifyEnabled = false
        }
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // uniffi's generated code calls the Rust library through JNA; the AAR carries JNA's own
    // native dispatch library for every ABI.
    implementation("net.java.dev.jna:jna:5.13.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.9.0")
}

// The native libraries are built by build-jni.sh (Rust and cargo-ndk), not by Gradle: fail early
// with the command to run instead of shipping an AAR without them.
val checkJniLibs by tasks.registering {
    val jniLibs = layout.projectDirectory.dir("src/main/jniLibs")
    doLast {
        val abis = listOf("arm64-v8a", "armeabi-v7a", "x86_64", "x86")
        val missing = abis.filter { !jniLibs.file("$it/libpatrol_ffi.so").asFile.isFile }
        if (missing.isNotEmpty()) {
            throw GradleException(
                "libpatrol_ffi.so is missing for ${missing.joinToString()}; run ./build-jni.sh in android/ first"
            )
        }
    }
}
tasks.named("preBuild") { dependsOn(checkJniLibs) }
